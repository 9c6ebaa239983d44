// How the run page draws one stored event: a span per line (so the time it was stored can stand before each line,
// shown by the "Times" toggle), and the event's style runs as spans whose colours are set through the DOM from
// numbers parsed here. Job output is data: its text only ever enters the page through textContent, a colour only as
// a number turned into rgb(), and a link only gets an href with an allowed scheme.
'use strict';
window.LogView = (() => {
  // xterm's default 16 colours, as most terminals show them.
  const PALETTE = [
    '#000000', '#cd3131', '#0dbc79', '#e5e510', '#2472c8', '#bc3fbc', '#11a8cd', '#e5e5e5',
    '#666666', '#f14c4c', '#23d18b', '#f5f543', '#3b8eea', '#d670d6', '#29b8db', '#ffffff',
  ];
  const SCHEMES = new Set(['http:', 'https:', 'mailto:']);
  const CUBE = [0, 95, 135, 175, 215, 255];

  function indexed(n) {
    if (n < 16) {
      return PALETTE[n];
    }
    if (n < 232) {
      const v = n - 16;
      return `rgb(${CUBE[Math.floor(v / 36)]}, ${CUBE[Math.floor(v / 6) % 6]}, ${CUBE[v % 6]})`;
    }
    const grey = 8 + ((n - 232) * 10);
    return `rgb(${grey}, ${grey}, ${grey})`;
  }

  const byte = (n) => Math.max(0, Math.min(255, n | 0));

  // The SGR text of a style ("1;31", "38;5;208", "48;2;0;0;139") as what it sets; anything unknown is ignored.
  function parse(sgr) {
    const style = { fg: null, bg: null, bold: false, italic: false, underline: false, inverse: false };
    const p = sgr === '' ? [] : String(sgr).split(';').map((v) => Number.parseInt(v, 10) || 0);
    for (let i = 0; i < p.length; i++) {
      const v = p[i];
      if (v === 1) style.bold = true;
      else if (v === 3) style.italic = true;
      else if (v === 4) style.underline = true;
      else if (v === 7) style.inverse = true;
      else if (v >= 30 && v <= 37) style.fg = PALETTE[v - 30];
      else if (v >= 40 && v <= 47) style.bg = PALETTE[v - 40];
      else if (v >= 90 && v <= 97) style.fg = PALETTE[v - 90 + 8];
      else if (v >= 100 && v <= 107) style.bg = PALETTE[v - 100 + 8];
      else if ((v === 38 || v === 48) && p[i + 1] === 5 && i + 2 < p.length) {
        style[v === 38 ? 'fg' : 'bg'] = indexed(byte(p[i + 2]));
        i += 2;
      } else if ((v === 38 || v === 48) && p[i + 1] === 2 && i + 4 < p.length) {
        style[v === 38 ? 'fg' : 'bg'] = `rgb(${byte(p[i + 2])}, ${byte(p[i + 3])}, ${byte(p[i + 4])})`;
        i += 4;
      }
    }
    return style;
  }

  function allowed(link) {
    try {
      return typeof link === 'string' && SCHEMES.has(new URL(link).protocol);
    } catch {
      return false;
    }
  }

  function styled(text, style) {
    let element;
    if (style.link && allowed(style.link)) {
      element = document.createElement('a');
      element.href = style.link;
      element.rel = 'noopener noreferrer nofollow';
      element.target = '_blank';
    } else {
      element = document.createElement('span');
    }
    element.textContent = text;
    const s = parse(style.sgr ?? '');
    let { fg, bg } = s;
    if (s.inverse) {
      [fg, bg] = [bg ?? 'var(--log-bg)', fg ?? 'var(--log-fg)'];
    }
    if (fg) element.style.color = fg;
    if (bg) element.style.backgroundColor = bg;
    if (s.bold) element.classList.add('sgr-b');
    if (s.italic) element.classList.add('sgr-i');
    if (s.underline) element.classList.add('sgr-u');
    return element;
  }

  // The pieces of the message: [start, end, style or null], covering every byte once, in order.
  function pieces(length, styles) {
    const out = [];
    let at = 0;
    const runs = styles && Array.isArray(styles.runs) && Array.isArray(styles.styles) ? styles.runs : [];
    for (let i = 0; i + 2 < runs.length; i += 3) {
      const start = Math.max(at, runs[i] | 0);
      const end = Math.min(length, (runs[i] | 0) + (runs[i + 1] | 0));
      const style = styles.styles[runs[i + 2]];
      if (end <= start || !style) continue;
      if (start > at) out.push([at, start, null]);
      out.push([start, end, style]);
      at = end;
    }
    if (at < length) out.push([at, length, null]);
    return out;
  }

  // Fills `line` (an event's element) with the event's lines; returns the event's text.
  function fill(line, bytes, styles, timestamp, decoder) {
    const time = new Date(Date.parse(timestamp)).toISOString();
    const newLine = () => {
      const span = document.createElement('span');
      span.className = 'l';
      span.dataset.time = time;
      line.append(span);
      return span;
    };
    let current = newLine();
    let text = '';
    for (const [start, end, style] of pieces(bytes.length, styles)) {
      const piece = decoder.decode(bytes.subarray(start, end));
      text += piece;
      const parts = piece.split('\n');
      parts.forEach((part, i) => {
        if (i > 0) {
          // The line's end stays in the text (so the element's text is the event's), except the event's last one.
          current.append('\n');
          current = newLine();
        }
        if (part !== '') current.append(style ? styled(part, style) : document.createTextNode(part));
      });
    }
    if (current.childNodes.length === 0 && line.childNodes.length > 1) {
      current.remove();
      line.lastChild.lastChild.remove(); // the '\n' that ended the event
    }
    return text;
  }

  const times = document.getElementById('log-times');
  const log = document.getElementById('log');
  if (times && log) {
    times.addEventListener('change', () => log.classList.toggle('show-times', times.checked));
    log.classList.toggle('show-times', times.checked);
  }

  // A failed read of the run page worth asking again (run.js, search.js): it did not reach the server or time out, or
  // the server could not answer now (a 5xx, a 429); a 4xx (no such run, a bad request) answers the same every time. A
  // server's answer sets the error's status.
  const retryable = (error) => error.status === undefined || error.status >= 500 || error.status === 429;

  return { fill, parse, retryable };
})();
