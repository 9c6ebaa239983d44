#!/usr/bin/env python3
"""Style runs' cost (colour beside the stored text): extra storage and ingest time, each as a ratio against plain
output or against the processor before style runs, measured in one command on the same machine.

Usage: python3 bench/styles.py [--quick] [--base REV]   (REV: the commit before style runs; default: the merge-base
with main). It builds src/Runner and bench/TerminalProcessor.Bench in Release from this tree, and the same bench from
REV (`git archive` into a temporary directory, removed at the end).

Figures:
  storage     a real runner (Release) runs two tty jobs printing the same 20,000 pytest-like lines, once plain and
              once with pytest's colours (bold red FAILED, green PASSED, a yellow summary): stored text bytes and the
              bytes of their style runs as the server stores them (compact JSON), pulled as the server pulls them.
  ingest      the terminal processor on bench/TerminalProcessor.Bench's inputs (about 4 MiB each, reads of 4,093
              bytes), in this tree and at REV, through the same harness (CpuTime.cs, copied into REV's tree): CPU
              nanoseconds per input byte, median of 5 rounds of 4 passes, runs of the two builds alternated 5 times
              (quick: 3); ratio = here / REV. CPU time, not wall time: on a machine shared with other builds wall time
              varies several-fold between runs. Coloured output takes the screen's path now (the shortcut copies only
              lines without sequences), so its ratio is the price of keeping its colours.
"""
import argparse, base64, json, os, shutil, statistics, subprocess, sys, tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import runner as bench_runner  # noqa: E402

ROOT = bench_runner.ROOT
LINES = 20_000

PYTEST = r"""
import sys
colour = sys.argv[1] == "colour"
def c(code, text): return f"\033[{code}m{text}\033[0m" if colour else text
for i in range(%d):
    if i %% 50 == 49:
        print(f"tests/test_module_{i // 50}.py::test_case_{i} " + c("1;31", "FAILED") + f" [{i %% 100:3d}%%]")
    else:
        print(f"tests/test_module_{i // 50}.py::test_case_{i} " + c("32", "PASSED") + f" [{i %% 100:3d}%%]")
print(c("1;33", "==== 400 failed, 19600 passed in 12.34s ===="))
""" % LINES


def log(message):
    print(f"[styles.py] {message}", file=sys.stderr, flush=True)


def storage():
    script = os.path.join(bench_runner.readable_dir("logquota-styles-"), "pytest_like.py")
    with open(script, "w") as f:
        f.write(PYTEST)
    os.chmod(script, 0o644)
    runner = bench_runner.Runner()
    results = {}
    try:
        for kind in ("plain", "colour"):
            job = runner.submit(f"{bench_runner.JOB_PYTHON} {script} {kind}", None, True)
            text = styles = styled_events = events = 0
            cursor = 0
            while True:
                page = runner.call("GET", f"/api/jobs/{job}/pull?timestamp={cursor}")
                for event in page["job_logs"]:
                    events += 1
                    text += len(base64.b64decode(event["message"]))
                    if event.get("styles") is not None:
                        styled_events += 1
                        styles += len(json.dumps(event["styles"], separators=(",", ":")).encode())
                cursor = page["last_updated"]
                if not page["has_more"]:
                    break
            runner.delete(job)
            results[kind] = {"text_bytes": text, "style_bytes": styles, "events": events, "styled_events": styled_events}
    finally:
        runner.close()
        shutil.rmtree(os.path.dirname(script), ignore_errors=True)
    return results


def build_bench(tree):
    subprocess.run(["dotnet", "build", "--disable-build-servers", "-c", "Release", "bench/TerminalProcessor.Bench"], cwd=tree, check=True,
                   stdout=subprocess.DEVNULL)


def cpu_time(tree, rounds):
    """{kind: CPU ns per input byte} of the processor in `tree`, through this tree's CpuTime.cs harness."""
    result = subprocess.run(["dotnet", "run", "-c", "Release", "--no-build", "--project", "bench/TerminalProcessor.Bench", "--",
                             "--cpu-time", str(rounds)], cwd=tree, check=True, capture_output=True, text=True).stdout
    return {line.split()[0]: float(line.split()[2]) for line in result.splitlines() if len(line.split()) == 3}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--base", default=None)
    args = parser.parse_args()
    base = args.base or subprocess.run(["git", "merge-base", "HEAD", "main"], cwd=ROOT, check=True,
                                       capture_output=True, text=True).stdout.strip()
    log(f"baseline {base[:10]}; load average {os.getloadavg()[0]:.1f}")
    subprocess.run(["dotnet", "build", "--disable-build-servers", "-c", "Release", "src/Runner"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    stored = storage()
    log(f"storage: {json.dumps(stored)}")

    old = tempfile.mkdtemp(prefix="logquota-styles-base-")
    try:
        archive = subprocess.run(["git", "archive", base], cwd=ROOT, check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", old], input=archive, check=True)
        # The same harness (this tree's Program.cs and CpuTime.cs) measures both processors.
        for name in ("Program.cs", "CpuTime.cs"):
            shutil.copy(os.path.join(ROOT, "bench/TerminalProcessor.Bench", name), os.path.join(old, "bench/TerminalProcessor.Bench", name))
        build_bench(ROOT)
        build_bench(old)
        here, before = {}, {}
        for _ in range(3 if args.quick else 5):  # alternated, so a burst of load hits both alike
            for kind, ns in cpu_time(ROOT, 5).items():
                here.setdefault(kind, []).append(ns)
            for kind, ns in cpu_time(old, 5).items():
                before.setdefault(kind, []).append(ns)
    finally:
        shutil.rmtree(old, ignore_errors=True)

    print(f"load average {os.getloadavg()[0]:.1f}; baseline {base[:10]}")
    for kind, s in stored.items():
        extra = s["style_bytes"] / s["text_bytes"] if s["text_bytes"] else 0
        print(f"storage {kind:6}: {s['text_bytes']} text bytes in {s['events']} events, {s['style_bytes']} style bytes "
              f"in {s['styled_events']} events: +{extra:.1%}")
    for kind in sorted(here):
        if kind in before:
            now, then = statistics.median(here[kind]), statistics.median(before[kind])
            print(f"ingest {kind}: {now:.3f} CPU ns/byte here, {then:.3f} at {base[:10]}: ratio {now / then:.2f} "
                  f"(here {', '.join(f'{v:.3f}' for v in here[kind])}; before {', '.join(f'{v:.3f}' for v in before[kind])})")

if __name__ == "__main__":
    main()
