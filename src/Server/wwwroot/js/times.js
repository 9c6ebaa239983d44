// Times as a person reads them: relative ("3 min ago") or the clock in the reader's time zone ("12:04:31"), the
// exact UTC in the tooltip, kept ticking. The server writes each <time data-time> in UTC; this rewrites it in place,
// at once for times that arrive later (the runs list swaps its table in), and once a second after that.
// html[data-times-ticks] counts the passes, so a test can wait for the next one instead of sleeping.
'use strict';
(() => {
  const TICK_MS = 1000;
  const clock = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
  const dated = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
  let ticks = 0;

  // The same words as the server's (WebFormat.Relative), so the page reads the same before and after this runs.
  function relative(ms, now) {
    const seconds = Math.floor((now - ms) / 1000);
    if (seconds < 5) {
      return 'just now';
    }
    if (seconds < 60) {
      return `${seconds} s ago`;
    }
    if (seconds < 3600) {
      return `${Math.floor(seconds / 60)} min ago`;
    }
    if (seconds < 86400) {
      return `${Math.floor(seconds / 3600)} h ago`;
    }
    return `${Math.floor(seconds / 86400)} d ago`;
  }

  function text(element, now) {
    const ms = Date.parse(element.dateTime);
    if (Number.isNaN(ms)) {
      return null;
    }
    if (element.dataset.time === 'relative') {
      return relative(ms, now);
    }
    // A clock time of another day says which day.
    return (new Date(ms).toDateString() === new Date(now).toDateString() ? clock : dated).format(ms);
  }

  function render(root) {
    const now = Date.now();
    for (const element of root.querySelectorAll('time[data-time]')) {
      const shown = text(element, now);
      if (shown !== null && element.textContent !== shown) {
        element.textContent = shown;
      }
    }
  }

  function tick() {
    render(document);
    ticks += 1;
    document.documentElement.dataset.timesTicks = String(ticks);
  }

  new MutationObserver((changes) => {
    for (const change of changes) {
      for (const added of change.addedNodes) {
        if (added.nodeType === Node.ELEMENT_NODE) {
          render(added.matches('time[data-time]') ? added.parentElement : added);
        }
      }
    }
  }).observe(document.body, { childList: true, subtree: true });

  tick();
  setInterval(tick, TICK_MS);
})();
