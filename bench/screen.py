#!/usr/bin/env python3
"""Screen figures of issue #12: what the runner stores for real terminal output, against what a real terminal
emulator (xterm.js headless, tests/oracle/render.mjs) shows for the same bytes, measured in one run.

Usage: python3 bench/screen.py [--quick] [--json PATH] [--figures ID,...]   (after `dotnet build -c Release
src/Runner`, which `bench/run` does; it runs `npm ci` in tests/oracle itself when needed). Writes {"figures": [...]}.

Figures:
  corpus_ratio_fast    the 21 captures of tests/Runner.Tests/Logs/Corpus replayed all at once (`cat`) through
                       real tty jobs on a real runner: stored bytes / emulator bytes, summed over the corpus.
  corpus_ratio_timed   the same captures replayed with their recorded read timing (Corpus/replay.py).
  nested_tqdm_loop     a training loop with an epoch bar over a batch bar (Debian's python3-tqdm), run for 60 s
                       (quick: 15 s) under a 200x50 pty by Corpus/capture.py, then replayed with its timing
                       through a real job: stored bytes / emulator bytes of the same capture.
"""
import argparse, json, os, shutil, subprocess, sys, tempfile, threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import runner as bench_runner  # noqa: E402  (the Runner process helper and the figure format)

ROOT = bench_runner.ROOT
CORPUS = os.path.join(ROOT, "tests/Runner.Tests/Logs/Corpus")
RENDER = os.path.join(ROOT, "tests/oracle/render.mjs")
PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else "python3"  # Debian's, with tqdm
FIGURE_IDS = ["corpus_ratio_fast", "corpus_ratio_timed", "nested_tqdm_loop"]

TQDM_LOOP = r"""
import sys, time
from tqdm import tqdm
seconds = float(sys.argv[1])
epochs = 6
per_epoch = seconds / epochs
for epoch in tqdm(range(epochs), desc="epoch", position=0):
    batches = 400
    for batch in tqdm(range(batches), desc="batch", position=1, leave=False):
        time.sleep(per_epoch / batches)
print("training done")
"""


def render(raw):
    return subprocess.run(["node", RENDER], input=raw, capture_output=True, check=True).stdout


def cases():
    return sorted(name[:-4] for name in os.listdir(CORPUS) if name.endswith(".raw"))


def replay_jobs(runner, commands):
    """Runs every command as a tty job at once; returns the stored bytes of each, in order."""
    results = [None] * len(commands)

    def one(i, command):
        job = runner.submit(command, None, True)
        stored, state, _ = runner.pull_all(job, check_lines=False)
        if state["state"] != "done":
            raise RuntimeError(f"{command}: ended {state}")
        results[i] = stored
        runner.delete(job)

    threads = [threading.Thread(target=one, args=(i, c)) for i, c in enumerate(commands)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if any(r is None for r in results):
        raise RuntimeError("a replay job failed")
    return results


def quote(path):
    return "'" + path.replace("'", "'\\''") + "'"


def job_corpus(runner):
    """A copy of the corpus in the runner's shared directory: a job under its own uid may not read the checkout."""
    corpus = os.path.join(runner.shared, "corpus")
    if not os.path.isdir(corpus):
        os.mkdir(corpus, 0o755)
        for name in os.listdir(CORPUS):
            if name == "replay.py" or name.endswith((".raw", ".timing")):
                shutil.copy(os.path.join(CORPUS, name), corpus)
                os.chmod(os.path.join(corpus, name), 0o644)
    return corpus


def corpus_figure(runner, timed):
    names = cases()
    corpus = job_corpus(runner)
    if timed:
        commands = [f"stty -opost; {PYTHON} {quote(os.path.join(corpus, 'replay.py'))} "
                    f"{quote(os.path.join(corpus, n + '.raw'))} {quote(os.path.join(corpus, n + '.timing'))}" for n in names]
    else:
        commands = [f"stty -opost; cat {quote(os.path.join(corpus, n + '.raw'))}" for n in names]
    stored = replay_jobs(runner, commands)
    golden = [len(render(open(os.path.join(CORPUS, n + ".raw"), "rb").read())) for n in names]
    per_case = ", ".join(f"{n} {s}/{g}" for n, s, g in zip(names, stored, golden))
    ratio = sum(stored) / sum(golden)
    goal = 1.25 if timed else 1.05
    return bench_runner.figure(
        "corpus_ratio_timed" if timed else "corpus_ratio_fast",
        f"stored / emulator bytes over the corpus ({len(names)} captures), replayed {'with their timing' if timed else 'all at once'}",
        sum(stored), "B", "xterm.js headless rendering of the same bytes", sum(golden), f"<= {goal} x", ratio <= goal,
        "per case stored/emulator bytes: " + per_case, ratio=round(ratio, 4))


def ensure_tqdm():
    """Debian's python3-tqdm for the loop, installed as .ci/run does where it is missing and this is root."""
    if subprocess.run([PYTHON, "-c", "import tqdm"], capture_output=True).returncode == 0:
        return
    if os.geteuid() == 0:
        bench_runner.log("installing Debian's python3-tqdm")
        if subprocess.run(["apt-get", "install", "-y", "python3-tqdm"], capture_output=True).returncode != 0:
            subprocess.run(["apt-get", "update"], capture_output=True)
            subprocess.run(["apt-get", "install", "-y", "python3-tqdm"], capture_output=True)
    if subprocess.run([PYTHON, "-c", "import tqdm"], capture_output=True).returncode != 0:
        raise RuntimeError(f"{PYTHON} cannot import tqdm: install Debian's python3-tqdm (as root: apt-get install python3-tqdm)")


def tqdm_figure(runner, seconds):
    work = bench_runner.readable_dir("logquota-bench-screen-")  # the replay job reads the capture
    try:
        program = os.path.join(work, "loop.py")
        with open(program, "w") as f:
            f.write(TQDM_LOOP)
        capture = os.path.join(work, "loop")
        subprocess.run([PYTHON, os.path.join(CORPUS, "capture.py"), capture, "--", PYTHON, program, str(seconds)],
                       check=True, capture_output=True, timeout=seconds + 60)
        raw = open(capture + ".raw", "rb").read()
        if b"training done" not in raw:
            # A loop that failed (Debian's python3-tqdm missing) would be measured as its traceback.
            raise RuntimeError(f"the tqdm loop did not finish (is python3-tqdm installed?); it wrote: {raw[-300:]!r}")
        golden = len(render(raw))
        [stored] = replay_jobs(runner, [
            f"stty -opost; {PYTHON} {quote(os.path.join(job_corpus(runner), 'replay.py'))} {quote(capture + '.raw')} {quote(capture + '.timing')}"])
        ratio = stored / golden
        return bench_runner.figure(
            "nested_tqdm_loop", f"nested tqdm training loop, {seconds:.0f} s, replayed with its timing: stored / emulator bytes",
            stored, "B", "xterm.js headless rendering of the same capture", golden, "<= 1.5 x", ratio <= 1.5,
            f"capture {len(raw)} B under a 200x50 pty (6 epochs x 400 batches, inner bar leave=False); "
            f"the single-line processor stored 239 x the emulator's bytes for a 60 s loop (issue #12)",
            ratio=round(ratio, 4))
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="a 15 s training loop instead of 60 s")
    ap.add_argument("--json", metavar="PATH")
    ap.add_argument("--figures", metavar="ID,...", help="only these: " + ", ".join(FIGURE_IDS))
    args = ap.parse_args()
    wanted = set(FIGURE_IDS if not args.figures else args.figures.split(","))
    if not os.path.exists(bench_runner.DLL):
        sys.exit(f"{bench_runner.DLL} not found: run `dotnet build -c Release src/Runner` first")
    if not os.path.isdir(os.path.join(ROOT, "tests/oracle/node_modules")):
        # In the directory, not with --prefix, which also moves npm's global configuration (where a system's certificate
        # authority for the registry may be named) to tests/oracle/etc/npmrc: a normal user's install then failed with
        # SELF_SIGNED_CERT_IN_CHAIN where root's passed only through NODE_EXTRA_CA_CERTS in its environment.
        bench_runner.log("installing the oracle: npm ci in tests/oracle")
        if subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=os.path.join(ROOT, "tests/oracle")).returncode != 0:
            sys.exit("npm ci in tests/oracle failed: the emulator (xterm.js headless) is needed as the baseline")

    figures = []
    runner = bench_runner.Runner()
    try:
        if "corpus_ratio_fast" in wanted:
            bench_runner.log("corpus replayed all at once")
            figures.append(corpus_figure(runner, timed=False))
        if "corpus_ratio_timed" in wanted:
            bench_runner.log("corpus replayed with its timing")
            figures.append(corpus_figure(runner, timed=True))
        if "nested_tqdm_loop" in wanted:
            seconds = 15 if args.quick else 60
            bench_runner.log(f"nested tqdm loop, {seconds} s capture, then its replay")
            ensure_tqdm()
            figures.append(tqdm_figure(runner, seconds))
    finally:
        runner.close()

    for f in figures:
        bench_runner.log(f"{f['id']}: {f['value']} {f['unit']} (baseline {f['baseline_value']}, ratio {f['ratio']}) met={f['met']}")
    if args.json:
        with open(args.json, "w") as out:
            json.dump({"figures": figures}, out, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
