// A status block at the bottom of the output, redrawn in place the way Jest's reporter and log-update do: every
// frame erases the block's lines one row at a time (ESC[2K, then ESC[1A per line, as ansi-escapes' eraseLines
// writes them), prints the lines that finished above it, and draws the block again. The cursor stays visible.
//   node status_block.js jest        test files finishing above a "Test Suites / Tests / Time" block
//   node status_block.js log_update  one block of spinner rows redrawn 60 times, nothing above it
const mode = process.argv[2];
const esc = "\u001b[";
let drawn = 0;

function eraseLines(count) {
  let clear = "";
  for (let i = 0; i < count; i++) {
    clear += esc + "2K" + (i < count - 1 ? esc + "1A" : "");
  }
  return count > 0 ? clear + esc + "G" : "";
}

function frame(above, block) {
  process.stdout.write(eraseLines(drawn) + above.map((line) => line + "\n").join("") + block.join("\n") + "\n");
  drawn = block.length + 1;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function jest() {
  const files = Array.from({ length: 14 }, (_, i) => `src/module${i}.test.js`);
  let passed = 0;
  for (let tick = 0; tick <= files.length * 3; tick++) {
    const above = [];
    if (tick > 0 && tick % 3 === 0) {
      passed++;
      above.push(`PASS ${files[passed - 1]} (${(tick * 0.137).toFixed(3)} s)`);
    }
    frame(above, [
      "",
      `Test Suites: ${passed} passed, ${passed} of ${files.length} total`,
      `Tests:       ${passed * 7} passed, ${passed * 7} total`,
      `Snapshots:   0 total`,
      `Time:        ${(tick * 0.05).toFixed(2)} s`,
      `Running ${files[Math.min(passed, files.length - 1)]}...`,
    ]);
    await sleep(30);
  }
}

async function logUpdate() {
  const spinner = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏";
  for (let i = 0; i < 60; i++) {
    frame([], [0, 1, 2, 3].map((task) => `${spinner[(i + task) % spinner.length]} task ${task}: ${Math.min(100, i * (task + 2))}%`));
    await sleep(25);
  }
}

(mode === "jest" ? jest() : logUpdate()).then(() => process.stdout.write("done\n"));
