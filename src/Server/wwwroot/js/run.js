// The run page's log: a window of stored events read a page at a time (a 50 MB log never lands in the tab
// whole), the live region drawn below it and replaced in place, and follow while the run is active.
// Job output is data: every byte reaches the page through textContent, never as markup.
'use strict';
(() => {
  const PAGE = 500;          // events per request: one short query on the server, a few ms of layout here
  const MAX_EVENTS = 5000;   // events kept in the page; older ones leave as newer ones arrive
  const POLL_MS = 1000;      // the server pulls from its runner about this often (DSTACK_SERVER_POLL_INTERVAL)
  const ACTIVE = new Set(['pending', 'submitted', 'running', 'terminating']);

  const log = document.getElementById('log');
  if (!log) {
    return;
  }

  const base = `/web/api/runs/${encodeURIComponent(log.dataset.run)}`;
  const lines = document.getElementById('log-lines');
  const live = document.getElementById('live');
  const status = document.getElementById('log-status');
  const follow = document.getElementById('log-follow');
  const buttons = {
    start: document.getElementById('log-start'),
    older: document.getElementById('log-older'),
    newer: document.getElementById('log-newer'),
    end: document.getElementById('log-end'),
  };

  // Not fatal: bytes that are not UTF-8 become U+FFFD, as a terminal would show them.
  const decoder = new TextDecoder('utf-8');
  let active = log.dataset.active === 'true';
  let following = active;
  let atStart = false;   // the window holds the log's first stored event
  let atEnd = false;     // ... and its last one (so far)
  let busy = false;

  const decode = (base64) => decoder.decode(Uint8Array.from(atob(base64), (c) => c.charCodeAt(0)));
  const iso = (ms) => new Date(ms).toISOString();
  const edge = (element) => (element ? Number(element.dataset.ts) : null);

  function node(event) {
    const line = document.createElement('div');
    line.className = event.log_source === 'runner' ? 'ln marker' : 'ln';
    line.dataset.ts = String(Date.parse(event.timestamp));
    const text = decode(event.message);
    line.textContent = text.endsWith('\n') ? text.slice(0, -1) : text;
    line.dataset.lines = String(text.split('\n').length - (text.endsWith('\n') ? 1 : 0));
    return line;
  }

  function fragment(events) {
    const nodes = document.createDocumentFragment();
    for (const event of events) {
      nodes.append(node(event));
    }
    return nodes;
  }

  async function read(path, params) {
    const response = await fetch(`${base}${path}?${new URLSearchParams(params)}`, {
      credentials: 'same-origin',
      headers: { Accept: 'application/json' },
    });
    if (response.status === 401) {
      location.assign(`/signin?returnUrl=${encodeURIComponent(location.pathname)}`);
      throw new Error('The session has ended; sign in again.');
    }
    if (!response.ok) {
      const problem = await response.json().catch(() => null);
      throw new Error(problem?.detail ?? `The server answered ${response.status}.`);
    }
    return response.json();
  }

  function showLive(base64) {
    const text = atEnd && base64 ? decode(base64).replace(/\n$/, '') : '';
    live.hidden = text === '';
    if (live.textContent !== text) {
      live.textContent = text;
    }
  }

  function trim(fromStart) {
    for (let extra = lines.childElementCount - MAX_EVENTS; extra > 0; extra--) {
      (fromStart ? lines.firstElementChild : lines.lastElementChild).remove();
    }
    if (lines.childElementCount >= MAX_EVENTS) {
      if (fromStart) {
        atStart = false;
      } else {
        atEnd = false;
      }
    }
  }

  function describe(note) {
    const where = atStart && atEnd ? 'the whole log' : atEnd ? 'the end of the log' : atStart ? 'the start of the log' : 'part of the log';
    const mode = !active ? 'the run has ended' : following ? 'following' : 'paused';
    let count = 0;
    for (const line of lines.children) {
      count += Number(line.dataset.lines);
    }
    status.textContent = note ?? `${count} stored lines shown (${where}); ${mode}.`;
    buttons.start.disabled = atStart && log.scrollTop === 0;
    buttons.older.disabled = atStart;
    buttons.newer.disabled = atEnd;
    follow.hidden = !active;
    follow.textContent = following ? 'Pause' : 'Follow';
    follow.setAttribute('aria-pressed', String(following));
  }

  const scrollToEnd = () => { log.scrollTop = log.scrollHeight; };

  async function loadEnd() {
    const page = await read('/logs', { descending: 'true', limit: PAGE });
    lines.replaceChildren(fragment(page.logs.reverse()));
    atStart = page.next_token === null;
    atEnd = true;
    showLive(page.live);
    scrollToEnd();
  }

  async function loadStart() {
    const page = await read('/logs', { limit: PAGE });
    lines.replaceChildren(fragment(page.logs));
    atStart = true;
    atEnd = page.next_token === null;
    showLive(page.live);
    log.scrollTop = 0;
  }

  async function older() {
    const first = edge(lines.firstElementChild);
    if (atStart || first === null) {
      return;
    }
    // end_time is inclusive and timestamps are whole, strictly increasing milliseconds: "before the first shown".
    const page = await read('/logs', { descending: 'true', limit: PAGE, end_time: iso(first - 1) });
    const height = log.scrollHeight;
    lines.prepend(fragment(page.logs.reverse()));
    log.scrollTop += log.scrollHeight - height;  // what the reader was looking at stays where it was
    atStart = page.next_token === null;
    trim(false);
    showLive(null);
  }

  async function newer() {
    const last = edge(lines.lastElementChild);
    const params = { limit: PAGE };
    if (last !== null) {
      params.start_time = iso(last);  // exclusive
    }
    const page = await read('/logs', params);
    lines.append(fragment(page.logs));
    atEnd = page.next_token === null;
    trim(true);
    showLive(page.live);
    return page;
  }

  function showRun(run) {
    const badge = document.getElementById('run-status');
    badge.textContent = run.status_message;
    badge.className = `status status-${run.status}`;
    const error = document.getElementById('run-error');
    error.hidden = run.error === null;
    error.textContent = run.error === null ? '' : `✕ ${run.error}`;
    const quota = run.log_quota;
    const meter = document.querySelector('#quota-usage meter');
    const used = quota ? quota.used_bytes_hour : run.log_bytes_hour;
    if (meter) {
      meter.value = Math.min(used, Number(meter.max));
    }
  }

  async function refreshRun() {
    const run = await read('', {});
    showRun(run);
    if (!ACTIVE.has(run.status)) {
      active = false;
      await newer();
      if (following) {
        // The quota block, its report, the events and the delete button are drawn by the server: draw them anew.
        location.reload();
      }
      following = false;
    }
  }

  async function act(work, note) {
    if (busy) {
      return;
    }
    busy = true;
    try {
      await work();
      describe(note);
    } catch (error) {
      describe(`The log could not be read: ${error.message}`);
    } finally {
      busy = false;
    }
  }

  async function tick() {
    if (following && atEnd) {
      let page;
      do {
        page = await newer();
      } while (page.next_token !== null && following);
      scrollToEnd();
    }
    if (active) {
      await refreshRun();
    }
  }

  buttons.start.addEventListener('click', () => act(async () => { following = false; await loadStart(); }));
  buttons.end.addEventListener('click', () => act(async () => { await loadEnd(); following = active; }));
  buttons.older.addEventListener('click', () => act(async () => { following = false; await older(); }));
  buttons.newer.addEventListener('click', () => act(newer));
  follow.addEventListener('click', () => act(async () => {
    following = !following;
    if (following && !atEnd) {
      await loadEnd();
    } else if (following) {
      scrollToEnd();
    }
  }));

  act(loadEnd);
  setInterval(() => {
    if (active) {
      act(tick);
    }
  }, POLL_MS);
})();
