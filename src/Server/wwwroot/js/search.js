// The run page's line numbers, #L links and search. run.js draws each stored event as a .ln node (data-ts, data-lines);
// this file numbers their lines once it knows where one of them starts in the whole log (the server's logs?line= and
// logs?q= answers say where), splits each node into one row per line with its number as a link, and moves the window
// to a line for a search hit or a #L<n> link. Job output stays data: its text nodes are moved, never read as markup.
'use strict';
(() => {
  const MAX_HITS = 10000;  // hits kept for navigation; a search that finds more says so
  const HIT_PAGE = 1000;
  const READ_LIMIT_MS = 30000;  // a read of where lines start (or of a #L link) that takes longer is given up and asked again
  const RETRY_MS = 2000;        // after this long

  const log = document.getElementById('log');
  const lines = document.getElementById('log-lines');
  const form = document.getElementById('search');
  if (!log || !lines || !form) {
    return;
  }

  const base = `${log.dataset.api}/${encodeURIComponent(log.dataset.run)}/logs`;
  const input = document.getElementById('search-q');
  const regex = document.getElementById('search-regex');
  const count = document.getElementById('search-count');
  const prev = document.getElementById('search-prev');
  const next = document.getElementById('search-next');

  const starts = new Map();  // a stored event's timestamp (ms) -> the number of its first line
  const asked = new Set();   // windows (by their first event) whose numbers were already asked for
  let hits = [];
  let current = -1;
  let searched = null;       // the query the hits belong to
  let generation = 0;        // a newer search stops an older one's paging
  let target = null;         // the line of the #L link

  async function ask(params, signal) {
    const response = await fetch(`${base}?${new URLSearchParams(params)}`, {
      credentials: 'same-origin',
      headers: { Accept: 'application/json' },
      signal,
    });
    const body = await response.json().catch(() => null);
    if (!response.ok) {
      throw Object.assign(new Error(body?.detail ?? `The server answered ${response.status}.`), { status: response.status });
    }
    return body;
  }

  const learn = (line) => starts.set(Date.parse(line.timestamp), line.line - line.line_in_event);

  // The rows of a node: its content cut at each newline, elements (colour spans) cloned around each piece. A stored
  // line's own span (.l, which carries the time it was stored) is not cloned: its time goes to the row instead.
  function rowsOf(node) {
    const rows = [[]];
    const times = [];
    const visit = (child, wrap) => {
      if (child.nodeType === Node.TEXT_NODE) {
        child.data.split('\n').forEach((part, i) => {
          if (i > 0) {
            rows.push([]);
          }
          if (part !== '') {
            rows[rows.length - 1].push(wrap(document.createTextNode(part)));
          }
        });
      } else if (child.nodeType === Node.ELEMENT_NODE && child.classList.contains('l')) {
        times[rows.length - 1] = child.dataset.time;
        for (const inner of [...child.childNodes]) {
          visit(inner, wrap);
        }
      } else if (child.nodeType === Node.ELEMENT_NODE) {
        for (const inner of [...child.childNodes]) {
          visit(inner, (piece) => {
            const copy = child.cloneNode(false);
            copy.append(piece);
            return wrap(copy);
          });
        }
      }
    };
    for (const child of [...node.childNodes]) {
      visit(child, (piece) => piece);
    }
    return { rows, times };
  }

  function label(node, first) {
    if (node.dataset.first) {
      return;
    }
    node.dataset.first = String(first);
    // The number is drawn by CSS from data-line and the newline kept in a hidden span: the node's textContent stays the
    // stored text, as copied, downloaded and read by everything else on the page.
    const { rows, times } = rowsOf(node);
    node.replaceChildren(...rows.map((row, i) => {
      const number = first + i;
      const line = document.createElement('div');
      line.className = 'line';
      line.id = `L${number}`;
      const link = document.createElement('a');
      link.className = 'lnum';
      link.href = `#L${number}`;
      link.dataset.line = String(number);
      link.setAttribute('aria-label', `Line ${number}`);
      const text = document.createElement('span');
      text.className = 'text';
      if (times[i]) {
        text.classList.add('l');  // the stored line: the Times toggle draws its time before it
        text.dataset.time = times[i];
      }
      text.append(...row);
      line.append(link, text);
      if (i < rows.length - 1) {
        const newline = document.createElement('span');
        newline.className = 'nl';
        newline.textContent = '\n';
        line.append(newline);
      }
      return line;
    }));
  }

  // Numbers every node of the window from one whose first line is known, through the line counts run.js keeps.
  function number() {
    const nodes = [...lines.children];
    const at = nodes.findIndex((n) => n.dataset.first || starts.has(Number(n.dataset.ts)));
    if (at < 0) {
      anchor(nodes);
      return;
    }
    const first = Number(nodes[at].dataset.first || starts.get(Number(nodes[at].dataset.ts)));
    let n = first;
    for (let i = at; i < nodes.length; i++) {
      label(nodes[i], n);
      n += Number(nodes[i].dataset.lines);
    }
    n = first;
    for (let i = at - 1; i >= 0; i--) {
      n -= Number(nodes[i].dataset.lines);
      label(nodes[i], n);
    }
    mark();
  }

  // A window with no known line: ask where the log's first and last lines are (the window opens at one end). A read
  // that fails or does not answer in time is asked again: nothing else numbers an ended run's window, whose nodes never
  // change again, and without numbers it has no #L rows, no folds and no hits.
  function anchor(nodes) {
    const key = nodes[0]?.dataset.ts;
    if (key === undefined || asked.has(key)) {
      return;
    }
    asked.add(key);
    const signal = AbortSignal.timeout(READ_LIMIT_MS);
    Promise.all([ask({ line: '1' }, signal), ask({ line: 'last' }, signal)])
      .then((pages) => {
        pages.forEach((page) => page.matches.forEach(learn));
        number();
      })
      .catch((error) => {
        asked.delete(key);
        if (window.LogView.retryable(error)) {
          setTimeout(number, RETRY_MS);
        }
      });
  }

  function mark() {
    for (const row of lines.querySelectorAll('.line.hit, .line.current, .line.target')) {
      row.classList.remove('hit', 'current', 'target');
    }
    hits.forEach((hit, i) => {
      const row = document.getElementById(`L${hit.line}`);
      row?.classList.add(i === current ? 'current' : 'hit');
    });
    if (target !== null) {
      document.getElementById(`L${target}`)?.classList.add('target');
    }
  }

  // Brings line `line` of the event stored at `ts` into the window (run.js loads it there when it is not) and shows it.
  async function open(line, ts) {
    let row = document.getElementById(`L${line}`);
    if (!row) {
      const detail = { ts };
      log.dispatchEvent(new CustomEvent('log:goto', { detail }));
      await detail.done;
      number();
      row = document.getElementById(`L${line}`);
    }
    mark();
    if (row) {
      log.dispatchEvent(new CustomEvent('log:reveal', { detail: { line } }));  // sections.js opens the folds around it
      row.scrollIntoView({ block: 'center' });  // in the log's box, and the box in the page
    }
  }

  function show(note) {
    prev.disabled = hits.length < 2;
    next.disabled = hits.length < 2;
    if (note !== undefined) {
      count.textContent = note;
    } else if (searched === null) {
      count.textContent = '';
    } else if (hits.length === 0) {
      count.textContent = 'No matches';
    } else {
      const more = hits.length >= MAX_HITS ? '+' : '';
      count.textContent = `${current + 1} of ${hits.length}${more}`;
    }
  }

  async function go(index) {
    current = (index + hits.length) % hits.length;
    show();
    const hit = hits[current];
    await open(hit.line, Date.parse(hit.timestamp));
  }

  async function search(q, key) {
    const mine = ++generation;
    hits = [];
    current = -1;
    searched = key;
    mark();
    show('Searching…');
    let token = null;
    do {
      const params = { q, limit: String(HIT_PAGE) };
      if (regex.checked) {
        params.regex = 'true';
      }
      if (token) {
        params.next_token = token;
      }
      const page = await ask(params);
      if (mine !== generation) {
        return;
      }
      for (const hit of page.matches.slice(0, MAX_HITS - hits.length)) {
        hits.push(hit);
        learn(hit);
      }
      token = hits.length < MAX_HITS ? page.next_token : null;
      if (current < 0 && hits.length > 0) {
        await go(0);
      }
      show(token ? `${current + 1} of ${hits.length} so far…` : undefined);
    } while (token && mine === generation);
    mark();
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const q = input.value;
    const key = `${regex.checked}:${q}`;
    if (q === '') {
      generation++;
      hits = [];
      searched = null;
      mark();
      show();
    } else if (key === searched && hits.length > 0) {
      go(current + 1);  // Enter again: the next match
    } else {
      search(q, key).catch((error) => { searched = null; show(error.message); });
    }
  });
  prev.addEventListener('click', () => go(current - 1));
  next.addEventListener('click', () => go(current + 1));

  async function openHash() {
    const wanted = /^#L(\d+)$/.exec(location.hash);
    if (!wanted) {
      return;
    }
    target = Number(wanted[1]);
    if (document.getElementById(`L${target}`)) {
      await open(target, 0);
      return;
    }
    const page = await ask({ line: String(target) }, AbortSignal.timeout(READ_LIMIT_MS));
    if (page.matches.length === 0) {
      show(`There is no line ${target}: the log has ${page.last_line} lines.`);
      return;
    }
    learn(page.matches[0]);
    await open(target, Date.parse(page.matches[0].timestamp));
  }

  new MutationObserver(number).observe(lines, { childList: true });
  // A #L link whose read failed says why, and one that may pass later is read again while the address still asks for it.
  function openHashFailed(error) {
    show(error.message);
    if (!window.LogView.retryable(error)) {
      return;
    }
    const hash = location.hash;
    setTimeout(() => {
      if (location.hash === hash) {
        show();
        openHash().catch(openHashFailed);
      }
    }, RETRY_MS);
  }

  window.addEventListener('hashchange', () => { openHash().catch(openHashFailed); });
  openHash().catch(openHashFailed);
})();
