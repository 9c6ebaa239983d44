// The runs list redraws itself while any run on it is active: the server renders the table, this swaps it in.
'use strict';
(() => {
  const REFRESH_MS = 2000;

  async function refresh() {
    const current = document.getElementById('runs');
    // Never while the reader is on a link in the table: swapping it would take their keyboard focus away.
    if (!current || current.dataset.refresh !== 'true' || document.hidden || current.contains(document.activeElement)) {
      return;
    }
    const response = await fetch(location.href, { credentials: 'same-origin', headers: { Accept: 'text/html' } });
    if (!response.ok || response.redirected) {
      return;  // signed out or failing: the next navigation shows why
    }
    // DOMParser builds an inert document: nothing in it runs, and the server escaped every name and message.
    const fresh = new DOMParser().parseFromString(await response.text(), 'text/html').getElementById('runs');
    if (fresh) {
      // A disclosure the reader opened stays open in the fresh table.
      for (const open of current.querySelectorAll('details[id][open]')) {
        fresh.querySelector(`details[id="${open.id}"]`)?.setAttribute('open', '');
      }
      current.replaceWith(document.adoptNode(fresh));
    }
  }

  setInterval(() => { refresh().catch(() => {}); }, REFRESH_MS);
})();
