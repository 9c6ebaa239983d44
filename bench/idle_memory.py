#!/usr/bin/env python3
"""A runner's memory per idle job: its RSS with N jobs running `sleep`, against its RSS before them.

Usage (after `dotnet build -c Release src/Server src/Runner`):

    python3 bench/idle_memory.py [--jobs 200] [--before TREE]

Starts one runner (DSTACK_RUNNER_MAX_JOBS=N) and one server (SQLite, quota 0) as processes, reads the runner's VmRSS
(/proc/PID/status), submits N runs of `sleep 120`, waits until all are `running` and 10 s more, and reads it again:
(with jobs - before) / N is the figure. --before TREE runs the same first with the Release builds of another checkout
(a `git worktree` of the commit before a change, built the same way) and prints after / before.
"""
import argparse, os, sys, time

import load
import pair


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise SystemExit(f"no VmRSS for {pid}")


def measure(root, jobs):
    with pair.runner_and_server(root, "idle-memory", runner_env={"DSTACK_RUNNER_MAX_JOBS": str(jobs)}) as (runner, _, base):
        before = rss_mib(runner.pid)
        for i in range(jobs):
            status, answer = load.call(base, "POST", "/api/runs", {"run_name": f"idle-{i}", "commands": ["sleep 120"]})
            if status != 201:
                sys.exit(f"submit {i}: {status} {answer}")
        deadline = time.monotonic() + 300
        while sum(r["status"] == "running" for r in load.call(base, "GET", "/api/runs?limit=1000")[1]["runs"]) < jobs:
            if time.monotonic() > deadline:
                sys.exit(f"not all {jobs} jobs running after 300 s")
            time.sleep(1)
        time.sleep(10)
        return before, rss_mib(runner.pid)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--before")
    args = parser.parse_args()
    per_job = {}
    for label, root in ([("before", os.path.abspath(args.before))] if args.before else []) + [("after", load.ROOT)]:
        idle, busy = measure(root, args.jobs)
        per_job[label] = (busy - idle) * 1024 / args.jobs
        print(f"{label}: runner RSS {idle:.1f} MiB without jobs, {busy:.1f} MiB with {args.jobs} sleeping: {per_job[label]:.0f} KiB per job", flush=True)
    if args.before:
        print(f"after / before: {per_job['after'] / per_job['before']:.2f}")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
