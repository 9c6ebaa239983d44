#!/usr/bin/env python3
"""The terminal processor's throughput at this checkout against another commit, in one command: both builds of
bench/TerminalProcessor.Bench run alternately (--quick, in-process), and each figure's after/before ratio of the
medians is printed. For a change to the screen or the storing rule: a ratio under 1 is a slowdown.

    python3 bench/terminal_vs.py COMMIT [--rounds N] [--filter GLOB]
      (default 3 rounds; the other commit is exported with git archive; GLOB as the bench's --filter, e.g. "*Redraw*")
"""
import argparse, json, os, statistics, subprocess, sys, tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROJECT = "bench/TerminalProcessor.Bench"


def build(tree):
    subprocess.run(["dotnet", "build", "--disable-build-servers", "-c", "Release", "-v", "q", "-nologo", os.path.join(tree, PROJECT)], check=True,
                   stdout=subprocess.DEVNULL)


def run(tree, scratch, tag, glob):
    out = os.path.join(scratch, f"{tag}.json")
    subprocess.run(["dotnet", "run", "-c", "Release", "--no-build", "--project", os.path.join(tree, PROJECT), "--", "--quick",
                    "--json", out] + (["--filter", glob] if glob else []), check=True, stdout=subprocess.DEVNULL, cwd=tree)
    with open(out) as f:
        return {fig["id"]: fig["value"] for fig in json.load(f)["figures"] if fig["unit"] == "MB/s"}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("commit")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--filter")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="terminal-vs-") as scratch:
        before = os.path.join(scratch, "before")
        os.mkdir(before)
        archive = subprocess.run(["git", "-C", ROOT, "archive", args.commit], check=True, stdout=subprocess.PIPE).stdout
        subprocess.run(["tar", "-x", "-C", before], input=archive, check=True)
        build(before)
        build(ROOT)
        runs = {"before": [], "after": []}
        for round_ in range(args.rounds):
            runs["before"].append(run(before, scratch, f"before{round_}", args.filter))
            runs["after"].append(run(ROOT, scratch, f"after{round_}", args.filter))
    head = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], check=True, stdout=subprocess.PIPE, text=True).stdout.strip()
    print(f"terminal processor, --quick, {args.rounds} alternating rounds, medians: {args.commit} (before) vs {head} (after)")
    print(f"{'figure':28} {'before MB/s':>12} {'after MB/s':>12} {'after/before':>13}")
    for figure in runs["before"][0]:
        b = statistics.median(r[figure] for r in runs["before"])
        a = statistics.median(r[figure] for r in runs["after"])
        print(f"{figure:28} {b:12,.0f} {a:12,.0f} {a / b:13.3f}")


if __name__ == "__main__":
    sys.exit(main())
