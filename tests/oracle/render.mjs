// Renders raw terminal output into the golden log text of SPEC §2 with xterm.js (@xterm/headless):
// the NORMAL buffer's scrollback + screen on a 200x50 terminal, soft-wrapped rows joined into one
// logical line, trailing blanks of each line trimmed, trailing empty lines dropped, "\n" after every line.
//
//   node render.mjs FILE.raw          golden text of one capture on stdout
//   node render.mjs < FILE.raw        the same from stdin
//   node render.mjs --batch < in.json a JSON list of base64 inputs -> a JSON list of golden strings
//                                     (one process for hundreds of cases: start-up costs ~100 ms)
import { readFileSync } from 'node:fs';
import xterm from '@xterm/headless';

const { Terminal } = xterm;
const COLS = 200;
const ROWS = 50;
// Large enough that no corpus or generated case loses lines; render() fails loudly if one would.
const SCROLLBACK = 200_000;

function render(bytes) {
  const term = new Terminal({ cols: COLS, rows: ROWS, scrollback: SCROLLBACK, allowProposedApi: true, convertEol: false });
  return new Promise((resolve) => {
    term.write(bytes, () => {
      const text = golden(term.buffer.normal);
      term.dispose();
      resolve(text);
    });
  });
}

function golden(buffer) {
  if (buffer.length >= ROWS + SCROLLBACK) {
    throw new Error(`scrollback of ${SCROLLBACK} lines is full; the golden would lose lines`);
  }
  const lines = [];
  let logical = '';
  for (let y = 0; y < buffer.length; y++) {
    const row = buffer.getLine(y);
    const next = y + 1 < buffer.length ? buffer.getLine(y + 1) : undefined;
    if (next?.isWrapped) {
      // The row continues on the next one: all its cells belong to the logical line, except the empty
      // last cell xterm leaves when a wide character did not fit and wrapped (no character was there).
      let end = COLS;
      const last = row.getCell(COLS - 1);
      const first = next.getCell(0);
      if (last && last.getCode() === 0 && last.getWidth() === 1 && first && first.getWidth() === 2) {
        end = COLS - 1;
      }
      logical += row.translateToString(false, 0, end);
      continue;
    }
    // A blank the program wrote and a cell it never wrote look the same to a reader: both are trimmed.
    logical += row.translateToString(true);
    lines.push(logical.replace(/ +$/, ''));
    logical = '';
  }
  while (lines.length > 0 && lines[lines.length - 1] === '') {
    lines.pop();
  }
  return lines.map((l) => l + '\n').join('');
}

async function main() {
  const args = process.argv.slice(2);
  if (args[0] === '--batch') {
    const inputs = JSON.parse(readFileSync(args[1] ?? 0, 'utf8'));
    const outputs = [];
    for (const b64 of inputs) {
      outputs.push(await render(Buffer.from(b64, 'base64')));
    }
    process.stdout.write(JSON.stringify(outputs));
    return;
  }
  const bytes = readFileSync(args[0] ?? 0);
  process.stdout.write(await render(bytes));
}

await main();
