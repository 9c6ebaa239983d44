#!/usr/bin/env python3
"""One job printing 100 lines a second: what it costs the server and its runner (separate processes), over the stream.

Usage (after `dotnet build -c Release src/Server src/Runner`):

    python3 bench/busy_job.py [--seconds 20] [--before TREE]

Starts one runner and one server (SQLite, quota 0, poll interval 0.2 s) as processes, submits one job that prints a
line every 10 ms (bash `echo` and `sleep 0.01`), waits 5 s, then reads both processes' CPU seconds (utime + stime from
/proc) over --seconds. --before TREE runs the same first with the Release builds of another checkout (a `git worktree`
of the commit before a change, built the same way) and prints after / before: a change's effect in one command, on the
same load. Checks that the job's lines were stored in order, each once.
"""
import argparse, os, sys, time

import load
import pair
from control_plane import cpu_seconds

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def measure(root, seconds):
    with pair.runner_and_server(root, "busy-job", server_env={"DSTACK_SERVER_POLL_INTERVAL": "0.2"}) as (runner_proc, server_proc, base):
        procs = [runner_proc, server_proc]
        lines = int(100 * (seconds + 10))
        load.call(base, "POST", "/api/runs", {"run_name": "busy", "commands": [f"for i in $(seq 1 {lines}); do echo line-$i; sleep 0.01; done"]})
        time.sleep(5)
        before, start = [cpu_seconds(p.pid) for p in procs], time.monotonic()
        time.sleep(seconds)
        elapsed = time.monotonic() - start
        runner, server = [(cpu_seconds(p.pid) - b) / elapsed for p, b in zip(procs, before)]
        load.call(base, "POST", "/api/runs/busy/stop")
        deadline = time.monotonic() + 120
        while load.call(base, "GET", "/api/runs/busy")[1]["status"] in ("pending", "submitted", "provisioning", "running", "terminating"):
            if time.monotonic() > deadline:
                sys.exit("the busy job did not end within 120 s of its stop")
            time.sleep(0.5)
        text = load.call(base, "GET", "/api/runs/busy/logs?format=text&source=job")[1].decode()
        stored = [int(l[5:]) for l in text.splitlines() if l.startswith("line-")]
        if not stored or stored != list(range(1, len(stored) + 1)):
            sys.exit(f"the stored lines are not 1..n each once: {len(stored)} lines, first {stored[:3]}, last {stored[-3:]}")
        return {"runner": runner, "server": server, "lines": len(stored)}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--before")
    args = parser.parse_args()
    results = {}
    if args.before:
        results["before"] = measure(os.path.abspath(args.before), args.seconds)
        print(f"before: runner {results['before']['runner']:.3f} core, server {results['before']['server']:.3f} core", flush=True)
    results["after"] = measure(ROOT, args.seconds)
    print(f"after:  runner {results['after']['runner']:.3f} core, server {results['after']['server']:.3f} core")
    if args.before:
        print(f"after / before: runner {results['after']['runner'] / results['before']['runner']:.2f}, "
              f"server {results['after']['server'] / results['before']['server']:.2f}")
    print(f"lines stored in order, each once: {', '.join(k + ' ' + str(v['lines']) for k, v in results.items())}; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
