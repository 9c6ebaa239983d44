// The run page's folds: the sections of the log (GitLab's section_start/section_end, GitHub's ::group::, Buildkite's
// --- / +++), read from the server's /sections answer and laid over the numbered rows search.js makes. A fold's first
// line is its header: it gets a toggle and the section's duration, and the lines after it up to its end hide while it
// is folded. Each starts folded or open as its marker asked, the failing one (open when the job failed) open; a search
// hit or #L link inside a folded section opens it (search.js sends log:reveal). Only the page's own markup is added;
// the job's text is never touched, and the toggle and duration are drawn by CSS so the rows' text stays the log's.
'use strict';
(() => {
  const REFRESH_MS = 2000;      // while the run is active, its sections are read again this often
  const READ_LIMIT_MS = 30000;  // a read that takes longer is given up and tried again

  const log = document.getElementById('log');
  const lines = document.getElementById('log-lines');
  if (!log || !lines) {
    return;
  }

  const url = `${log.dataset.api}/${encodeURIComponent(log.dataset.run)}/sections`;
  let sections = [];
  const opened = new Map();  // a section's id -> open (true) or folded (false), once the reader toggled it

  const isOpen = (section) => opened.get(section.id) ?? !section.collapsed;
  const ends = (section) => section.end_line ?? Number.POSITIVE_INFINITY;

  function duration(ms) {
    const s = ms / 1000;
    if (s < 60) return `${s < 10 ? s.toFixed(1) : Math.round(s)} s`;
    const m = Math.floor(s / 60);
    if (m < 60) return `${m} min ${Math.round(s % 60)} s`;
    return `${Math.floor(m / 60)} h ${m % 60} min`;
  }

  // The lines hidden now: the union of every folded section's body (after its header, before its end), as sorted,
  // disjoint [from, to) ranges, so each row is placed with one binary search.
  function hiddenRanges() {
    const ranges = sections.filter((s) => !isOpen(s)).map((s) => [s.start_line + 1, ends(s)]).filter(([a, b]) => b > a);
    ranges.sort((a, b) => a[0] - b[0]);
    const merged = [];
    for (const range of ranges) {
      const last = merged[merged.length - 1];
      if (last && range[0] <= last[1]) {
        last[1] = Math.max(last[1], range[1]);
      } else {
        merged.push([...range]);
      }
    }
    return merged;
  }

  function isHidden(n, ranges) {
    let lo = 0;
    let hi = ranges.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (n < ranges[mid][0]) hi = mid - 1;
      else if (n >= ranges[mid][1]) lo = mid + 1;
      else return true;
    }
    return false;
  }

  function header(row, section) {
    let toggle = row.querySelector(':scope > button.fold');
    if (!toggle) {
      toggle = document.createElement('button');
      toggle.type = 'button';
      toggle.className = 'fold';
      toggle.addEventListener('click', () => {
        const current = sections.find((s) => s.id === Number(toggle.dataset.section));
        if (current) {
          opened.set(current.id, !isOpen(current));
          apply();
        }
      });
      row.querySelector(':scope > .lnum')?.after(toggle);
      const time = document.createElement('span');
      time.className = 'fold-time';
      row.querySelector(':scope > .text')?.after(time);
    }
    const open = isOpen(section);
    toggle.dataset.section = String(section.id);
    toggle.setAttribute('aria-expanded', String(open));
    toggle.setAttribute('aria-label', `${open ? 'Fold' : 'Unfold'} section ${section.title}`);
    row.classList.add('fold-head');
    row.classList.toggle('fold-failed', section.failed);
    const time = row.querySelector(':scope > .fold-time');
    const running = section.ended_at === null;
    time.dataset.text = `${duration(section.duration_ms)}${running ? ' so far' : ''}${section.failed ? ' · failed' : ''}`;
  }

  function apply() {
    const ranges = hiddenRanges();
    for (const row of lines.querySelectorAll('.line')) {
      const n = Number(row.id.slice(1));
      const hidden = isHidden(n, ranges);
      if (row.hidden !== hidden) {
        row.hidden = hidden;
      }
    }
    for (const section of sections) {
      const row = document.getElementById(`L${section.start_line}`);
      if (row) {
        header(row, section);
      }
    }
  }

  // Opens every section around line `line`; true when one was folded.
  function reveal(line) {
    let changed = false;
    for (const section of sections) {
      if (line > section.start_line && line < ends(section) && !isOpen(section)) {
        opened.set(section.id, true);
        changed = true;
      }
    }
    return changed;
  }

  // A line the page is about to show (a search hit, a #L link): every section around it opens.
  log.addEventListener('log:reveal', (event) => {
    if (reveal(event.detail.line)) {
      apply();
    }
  });

  let loaded = false;

  // True once read; false when the server could not answer now (asked again), null when it never will (no such run).
  async function load() {
    const response = await fetch(url, {
      credentials: 'same-origin',
      headers: { Accept: 'application/json' },
      signal: AbortSignal.timeout(READ_LIMIT_MS),
    });
    if (response.status === 404) {
      return null;
    }
    if (response.ok) {
      sections = (await response.json()).sections ?? [];
      if (!loaded) {
        // A #L link or a search hit shown before the folds were known stays in view.
        for (const row of lines.querySelectorAll('.line.target, .line.current')) {
          reveal(Number(row.id.slice(1)));
        }
        loaded = true;
      }
      apply();
      return true;
    }
    return false;
  }

  // Rows are numbered (and renumbered) by search.js as the window moves: the folds follow. Adding a header's toggle is
  // itself a change here, but a second pass adds nothing, so it ends.
  let scheduled = false;
  new MutationObserver(() => {
    if (!scheduled) {
      scheduled = true;
      queueMicrotask(() => { scheduled = false; apply(); });
    }
  }).observe(lines, { childList: true, subtree: true });

  // While the run is active its sections are read again; a read that failed or did not answer in time is tried again,
  // whatever the run's state.
  async function refresh() {
    let read = false;
    try {
      read = await load();
    } catch {
      // Tried again below; the log itself does not depend on its folds.
    }
    if (read === false || (read && log.dataset.active === 'true')) {
      setTimeout(refresh, REFRESH_MS);
    }
  }

  refresh();
})();
