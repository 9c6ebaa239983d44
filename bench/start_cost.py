#!/usr/bin/env python3
"""The CPU a job start costs the server and the runner, once both are warm. Not part of the test suite.
Usage (after `dotnet build -c Release src/Server src/Runner`; Debug builds are used when Release is absent):

    python3 bench/start_cost.py [--jobs 300] [--warm 300] [--rounds 2] [--before TREE]

Starts one runner and one server (SQLite, quota 0) as processes, submits --warm runs of `sleep` from 8 threads and waits
until all are `running` (the runtime's compilation of the start path, paid once per process, is left out of the
figure), then submits --jobs more the same way (control_plane.submit_all) and reports, per job, the server's and the
runner's CPU seconds (from /proc) from the first of those submits until all are `running`. The bench looks for
`running` by listing the runs every second; the CPU of one listing is measured afterwards and the listings' share is
given apart (it is in the figure).
--before TREE runs the same in another checkout's Release builds first (e.g. a `git worktree` of the commit before a
change), alternating the two --rounds times, and prints the medians and after / before: a change's effect in one
command, on the same load.
"""
import argparse, os, shutil, statistics, sys, tempfile, time

import control_plane as cp


def once(a, root):
    d = tempfile.mkdtemp(prefix="logquota-start-cost-")
    os.chmod(d, 0o711)  # a root runner's jobs run under uids of their own, which must reach their directories
    base, procs, log = cp.start_system(d, "stream", 1, a.jobs + a.warm, root)
    server, runner = procs[-1], procs[0]
    try:
        if a.warm:
            cp.submit_all(base, "warm", a.warm, "sleep 900")
            time.sleep(5)  # the warm starts' own after-work (tier-up, garbage) is not the next starts'
        spent, looks = {}, []
        cp.submit_all(base, "measured", a.jobs, "sleep 900", procs=procs, cpu=spent, looks=looks)
        time.sleep(3)
        at = cp.cpu_seconds(server.pid)
        for _ in range(5):
            cp.runs(base)
        listing = (cp.cpu_seconds(server.pid) - at) / 5
        return {
            "server ms CPU per start": spent[server.pid] * 1000 / a.jobs,
            "runner ms CPU per start": spent[runner.pid] * 1000 / a.jobs,
            "of which the bench's listings (server)": listing * len(looks) * 1000 / a.jobs,
        }
    finally:
        cp.stop_system(procs, log)
        shutil.rmtree(d, ignore_errors=True)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--jobs", type=int, default=300)
    p.add_argument("--warm", type=int, default=300)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--before")
    a = p.parse_args()
    sides = ([("before", a.before)] if a.before else []) + [("after", None)]
    results = {name: [] for name, _ in sides}
    for r in range(a.rounds):
        for name, root in sides:
            result = once(a, root)
            results[name].append(result)
            print(f"round {r + 1} {name}: " + ", ".join(f"{k} {v:.2f}" for k, v in result.items()), flush=True)
    print(f"\n{a.jobs} starts after {a.warm} warm ones, one runner; medians of {a.rounds} rounds")
    for figure in results["after"][0]:
        after = statistics.median(x[figure] for x in results["after"])
        line = f"  {figure}: {after:.2f}"
        if a.before:
            before = statistics.median(x[figure] for x in results["before"])
            line += f" (before {before:.2f}, after / before {after / before:.2f})" if before else f" (before {before:.2f})"
        print(line)


if __name__ == "__main__":
    sys.exit(main())
