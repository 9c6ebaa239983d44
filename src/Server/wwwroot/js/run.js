// The run page's log: a window of stored events read a page at a time (a 50 MB log never lands in the tab
// whole), the live region drawn below it and replaced in place, and follow while the run is active.
// Job output is data: every byte reaches the page through textContent, never as markup.
'use strict';
(() => {
  // A stored event is one line or up to a 64 KiB read of many, so pages are sized in bytes: every request asks the
  // server for at most max_bytes of events (it stops before the event that would cross it), whatever their sizes.
  const PAGE_BYTES = 256 * 1024;      // the most one request brings
  const FIRST_BYTES = 32 * 1024;      // the first request of a window: its lines show after one small answer
  const MAX_BYTES = 4 * 1024 * 1024;  // text kept in the page; the far side leaves as more arrives
  const RETRY_MS = 2000;              // how long after a failed first read of the log it is asked again
  const POLL_MS = 1000;      // how often the run is read when the log is not being followed, and the floor between asks
  const ACTIVE = new Set(['pending', 'submitted', 'running', 'terminating']);

  const log = document.getElementById('log');
  if (!log) {
    return;
  }

  const base = `${log.dataset.api}/${encodeURIComponent(log.dataset.run)}`;
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
  let shownBytes = 0;

  const decode = (base64) => decoder.decode(Uint8Array.from(atob(base64), (c) => c.charCodeAt(0)));
  const iso = (ms) => new Date(ms).toISOString();
  const edge = (element) => (element ? Number(element.dataset.ts) : null);

  function node(event) {
    const line = document.createElement('div');
    const text = window.LogView.fill(line, Uint8Array.from(atob(event.message), (c) => c.charCodeAt(0)), event.styles, event.timestamp, decoder);
    // The runner's events are its [logquota] markers and a dropped tail, which is the job's own lines.
    line.className = event.log_source !== 'runner' ? 'ln' : text.startsWith('[logquota] ') ? 'ln marker' : 'ln dropped';
    line.dataset.ts = String(Date.parse(event.timestamp));
    line.dataset.lines = String(text.split('\n').length - (text.endsWith('\n') ? 1 : 0));
    line.dataset.bytes = String(text.length);
    shownBytes += text.length;
    return line;
  }

  function fragment(events) {
    const nodes = document.createDocumentFragment();
    for (const event of events) {
      nodes.append(node(event));
    }
    return nodes;
  }

  const sized = (bytes, params) => ({ ...params, limit: '1000', max_bytes: String(bytes) });

  function clear() {
    lines.replaceChildren();
    shownBytes = 0;
  }

  async function read(path, params, signal) {
    const response = await fetch(`${base}${path}?${new URLSearchParams(params)}`, {
      credentials: 'same-origin',
      headers: { Accept: 'application/json' },
      signal,
    });
    if (response.status === 401) {
      location.assign(`/signin?returnUrl=${encodeURIComponent(location.pathname)}`);
      throw Object.assign(new Error('The session has ended; sign in again.'), { status: 401 });
    }
    if (!response.ok) {
      const problem = await response.json().catch(() => null);
      throw Object.assign(new Error(problem?.detail ?? `The server answered ${response.status}.`), { status: response.status });
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
    while (shownBytes > MAX_BYTES && lines.childElementCount > 1) {
      const gone = fromStart ? lines.firstElementChild : lines.lastElementChild;
      shownBytes -= Number(gone.dataset.bytes);
      gone.remove();
      if (fromStart) {
        atStart = false;
      } else {
        atEnd = false;
        live.hidden = true;  // the live region belongs below the last stored line, which has left the window
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
    status.textContent = note ?? `${count.toLocaleString()} stored ${count === 1 ? 'line' : 'lines'} shown (${where}); ${mode}.`;
    buttons.start.disabled = atStart && log.scrollTop === 0;
    buttons.older.disabled = atStart;
    buttons.newer.disabled = atEnd;
    follow.hidden = !active;
    follow.textContent = following ? 'Pause' : 'Follow';
    follow.setAttribute('aria-pressed', String(following));
  }

  const scrollToEnd = () => { log.scrollTop = log.scrollHeight; };

  // The window is filled to about a page's bytes, a request at a time, so its first lines show after one small one.
  async function loadEnd() {
    const page = await read('/logs', sized(FIRST_BYTES, { descending: 'true' }));
    clear();
    lines.append(fragment(page.logs.reverse()));
    atStart = page.next_token === null;
    atEnd = true;
    showLive(page.live);
    scrollToEnd();
    while (!atStart && shownBytes < PAGE_BYTES) {
      await older(PAGE_BYTES - shownBytes);  // only what the window lacks: it ends within one event of a page
    }
  }

  async function loadStart() {
    const page = await read('/logs', sized(FIRST_BYTES, {}));
    clear();
    lines.append(fragment(page.logs));
    atStart = true;
    atEnd = page.next_token === null;
    showLive(page.live);
    while (!atEnd && shownBytes < PAGE_BYTES) {
      await newer(PAGE_BYTES - shownBytes);
    }
    log.scrollTop = 0;
  }

  // A window that starts at the stored event of time ts (a search hit, a #L link), with a page before it for context.
  async function loadAt(ts) {
    const page = await read('/logs', sized(PAGE_BYTES, { start_time: iso(ts - 1) }));
    clear();
    lines.append(fragment(page.logs));
    atStart = false;
    atEnd = page.next_token === null;
    showLive(page.live);
    await older();
  }

  async function older(bytes = PAGE_BYTES) {
    const first = edge(lines.firstElementChild);
    if (atStart || first === null) {
      return;
    }
    // end_time is inclusive and timestamps are whole, strictly increasing milliseconds: "before the first shown".
    const page = await read('/logs', sized(bytes, { descending: 'true', end_time: iso(first - 1) }));
    const height = log.scrollHeight;
    lines.prepend(fragment(page.logs.reverse()));
    log.scrollTop += log.scrollHeight - height;  // what the reader was looking at stays where it was
    atStart = page.next_token === null;
    trim(false);
  }

  async function newer(bytes = PAGE_BYTES) {
    const last = edge(lines.lastElementChild);
    const params = sized(bytes, {});
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

  // The event stream open while following at the end (follow=true, Accept: text/event-stream): the server sends each
  // page as it is stored, one connection for the whole follow. Closed when the reader pauses or moves the window, or
  // when it breaks, and opened again from the last shown line (never by the browser's own reconnect, which would ask
  // from where the first one started).
  let waiting = null;

  function streamMore() {
    return new Promise((resolve) => {
      const last = edge(lines.lastElementChild);
      const params = sized(PAGE_BYTES, { follow: 'true' });
      if (last !== null) {
        params.start_time = iso(last);  // exclusive
      }
      const source = new EventSource(`${base}/logs?${new URLSearchParams(params)}`);
      // The badge and the quota meter: the run is read once a second while the log streams, not once per page.
      const timer = setInterval(() => { if (!busy) { refreshRun().catch(() => {}); } }, POLL_MS);
      const done = () => {
        source.close();
        clearInterval(timer);
        waiting = null;
        resolve();
      };
      waiting = { abort: done };
      source.addEventListener('page', (event) => {
        const page = JSON.parse(event.data);
        lines.append(fragment(page.logs));
        trim(true);
        if (page.next_token === null) {
          showLive(page.live);  // a full page says more follows at once: the live region goes below the last one
        }
        if (following) {
          scrollToEnd();
        }
        describe();
      });
      source.addEventListener('end', done);       // the run has ended and every line was sent
      source.addEventListener('error', done);     // broken, or refused before it started (a 401 included)
    });
  }

  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  // Runs one read of the window, unless one is in progress; its failure is shown, and returned.
  async function act(work, note) {
    // A button moves the window: the pending ask was for the old one.
    waiting?.abort();
    if (busy) {
      return null;
    }
    busy = true;
    try {
      await work();
      describe(note);
      return null;
    } catch (error) {
      describe(`The log could not be read: ${error.message}`);
      return error;
    } finally {
      busy = false;
    }
  }

  // The first read of the log, asked again while the server cannot answer it now (no answer, a 5xx, a 429) and the page
  // shows nothing: nothing else reads an ended run's log, and a window the reader opened meanwhile (Start) stays. A 4xx
  // answers the same every time, and stays shown.
  async function openLog() {
    let error = await act(loadEnd);
    while (error && window.LogView.retryable(error)) {
      await sleep(RETRY_MS);
      if (lines.childElementCount > 0) {
        return;  // the reader opened a window meanwhile
      }
      error = await act(loadEnd);
    }
  }

  async function tick() {
    if (following && atEnd) {
      let page;
      do {
        page = await newer();
      } while (page.next_token !== null && following);
      if (following) {
        scrollToEnd();  // paused meanwhile: the view stays where the reader put it
      }
    }
    if (active) {
      await refreshRun();
    }
  }

  buttons.start.addEventListener('click', () => act(async () => { following = false; await loadStart(); }));
  buttons.end.addEventListener('click', () => act(async () => { await loadEnd(); following = active; }));
  buttons.older.addEventListener('click', () => act(async () => { following = false; await older(); }));
  buttons.newer.addEventListener('click', () => act(newer));
  follow.addEventListener('click', () => {
    // At once, not inside act: a read in flight (the follow loop answers every commit) must not swallow the click.
    following = !following;
    describe();
    act(async () => {
      if (following && !atEnd) {
        await loadEnd();
      } else if (following) {
        scrollToEnd();
      }
    });
  });

  // While the run is active: when following at the end, stream what is stored as it is stored; else read the run once a
  // second, as before.
  async function followLoop() {
    while (active) {
      const started = Date.now();
      try {
        if (following && atEnd) {
          await streamMore();
        } else {
          await sleep(POLL_MS);
        }
      } catch {
        // Aborted by a button, or a failed ask: the tick below reads afresh (and says so when it cannot).
      }
      await act(tick);
      // A server without follow=true answers at once: ask it no more often than a poll did.
      await sleep(Math.max(0, Math.min(POLL_MS, 100) - (Date.now() - started)));
    }
  }

  // search.js moves the window to a line it found: it waits on detail.done, then scrolls to the line.
  log.addEventListener('log:goto', (event) => {
    event.detail.done = (async () => {
      while (busy) {
        await sleep(50);
      }
      await act(async () => { following = false; await loadAt(event.detail.ts); });
    })();
  });

  openLog().then(followLoop);
})();
