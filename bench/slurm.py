#!/usr/bin/env python3
"""The Slurm executor next to the local one, in one run on one machine (docs/slurm.md).

Usage: .ci/slurm.sh -- python3 bench/slurm.py [--quick] [--json PATH]    (after `dotnet build -c Release src/Runner`;
needs LOGQUOTA_TEST_SLURM_CONF, which .ci/slurm.sh sets: a one-node cluster on this machine). Writes
{"figures": [...]} to PATH in the shared result format.

Two runner processes (the Release build) on the same machine, one with DSTACK_RUNNER_EXECUTOR=local (the baseline)
and one with DSTACK_RUNNER_EXECUTOR=slurm, each measured the same way:
  kill_latency        quota kills of a job writing without end under a 1 KiB quota: from the read that carried the
                      crossing byte until the runner's kill returned, as the runner logs it. Under Slurm that kill
                      first starts `scancel --full` (not waited for), then kills the local srun; the time to start
                      scancel is logged on its own (scancel_issued).
  slurm_ended         under Slurm: from the runner's final state (seen by polling its pull) until `squeue` shows
                      the Slurm job ended (CANCELLED), polled every 20 ms.
  first_line          submit -> the job's first stored line (`echo first`), polled every 5 ms.
"""
import argparse, json, os, re, statistics, subprocess, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import runner as bench  # noqa: E402  the runner process, its HTTP calls and its log


def nearest_rank(values, p):
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, int(round(p / 100 * len(ordered) + 0.5)) - 1))]


def start(executor):
    os.environ["DSTACK_RUNNER_EXECUTOR"] = executor
    os.environ["Logging__LogLevel__LogQuota.Runner.Slurm"] = "Information"
    try:
        return bench.Runner()
    finally:
        del os.environ["DSTACK_RUNNER_EXECUTOR"]


def squeue_state(job):
    out = subprocess.run(["squeue", "-h", "-t", "all", "-n", f"logquota-{job.replace('-', '')}", "-o", "%T"],
                         capture_output=True, text=True, timeout=60).stdout.strip()
    return out


def measure(runner, kills, slurm):
    kill_jobs, ended_ms, first_ms = [], [], []
    for _ in range(kills):
        job = runner.submit('while true; do echo "a line of a job that writes without end"; done', 1024, True)
        seen_end = runner.wait_ended(job)
        stored, final, _ = runner.pull_all(job, check_lines=False)
        if final.get("termination_reason") != "log_quota_exceeded" or stored > 1024:
            raise RuntimeError(f"job {job}: {final}, {stored} bytes stored")
        if slurm:
            deadline = time.monotonic() + 90
            while squeue_state(job) in ("RUNNING", "COMPLETING", "PENDING", "CONFIGURING"):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"Slurm did not show job {job} ended within 90 s")
                time.sleep(0.02)
            ended_ms.append((time.monotonic() - seen_end) * 1000)
        kill_jobs.append(job)
        runner.delete(job)

        job = runner.submit("echo first; sleep 0", None, True)
        started = time.monotonic()
        while True:
            page = runner.call("GET", f"/api/jobs/{job}/pull?timestamp=0")
            if page["job_logs"]:
                first_ms.append((time.monotonic() - started) * 1000)
                break
            if time.monotonic() - started > 90:
                raise RuntimeError(f"no first line of job {job} within 90 s")
            time.sleep(0.005)
        runner.wait_ended(job)
        runner.delete(job)

    text = runner.read_log()
    pattern = re.compile(r"Job (\S+) exceeded its log quota of \d+ bytes; its whole process tree was gone ([\d.,]+) ms")
    latency = {m.group(1): float(m.group(2).replace(",", ".")) for m in pattern.finditer(text)}
    issued = [float(m.group(1).replace(",", ".")) for m in re.finditer(r"scancel --full of Slurm job \d+ issued in ([\d.,]+) ms", text)]
    missing = [j for j in kill_jobs if j not in latency]
    if missing:
        raise RuntimeError(f"no kill-latency line in the runner's log for {len(missing)} jobs")
    return [latency[j] for j in kill_jobs], issued, ended_ms, first_ms


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--json")
    args = parser.parse_args()
    if not os.environ.get("LOGQUOTA_TEST_SLURM_CONF"):
        sys.exit("bench/slurm.py needs a Slurm cluster: run it under .ci/slurm.sh --")
    os.environ["SLURM_CONF"] = os.environ["LOGQUOTA_TEST_SLURM_CONF"]
    kills = 5 if args.quick else 25
    results = {}
    for executor in ("local", "slurm"):
        runner = start(executor)
        try:
            runner.warm_up()
            results[executor] = measure(runner, kills, executor == "slurm")
        finally:
            runner.close()

    local_kill, _, _, local_first = results["local"]
    slurm_kill, issued, ended, slurm_first = results["slurm"]
    figures = [
        {"id": "kill_latency_p99_local", "value": nearest_rank(local_kill, 99), "unit": "ms", "baseline": None},
        {"id": "kill_latency_p99_slurm", "value": nearest_rank(slurm_kill, 99), "unit": "ms",
         "baseline": nearest_rank(local_kill, 99), "goal": "<= 50 ms to the scancel call"},
        {"id": "kill_latency_p50_slurm", "value": statistics.median(slurm_kill), "unit": "ms", "baseline": statistics.median(local_kill)},
        {"id": "scancel_issued_p99", "value": nearest_rank(issued, 99), "unit": "ms", "baseline": None},
        {"id": "slurm_ended_p50", "value": statistics.median(ended), "unit": "ms", "baseline": None},
        {"id": "slurm_ended_p99", "value": nearest_rank(ended, 99), "unit": "ms", "baseline": None},
        {"id": "first_line_p50_slurm", "value": statistics.median(slurm_first), "unit": "ms", "baseline": statistics.median(local_first)},
    ]
    for f in figures:
        ratio = f"{f['value'] / f['baseline']:.2f}" if f.get("baseline") else "—"
        print(f"{f['id']:<26} {f['value']:10.2f} {f['unit']}  baseline {f.get('baseline') or '—'}  ratio {ratio}")
    if args.json:
        with open(args.json, "w") as out:
            json.dump({"figures": figures}, out, indent=2)


if __name__ == "__main__":
    main()
