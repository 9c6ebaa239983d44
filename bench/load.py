#!/usr/bin/env python3
"""API read latency while many jobs pour logs into the server: the heavy version of
tests/EndToEnd.Tests/LoadTests.cs, not part of the test suite. Usage (after `dotnet build src/Server`
and `dotnet build src/Runner`, Release builds are used when present):

    python3 bench/load.py [--jobs 200] [--lines 2000] [--readers 4]
    python3 bench/load.py control-plane [--jobs 2000] [--runners 4] [--seconds 120] [--modes stream,job[,postgres][,postgres-idle]]

The second form measures the control plane's cost per job, the runner-wide stream against one pull per job
(bench/control_plane.py says how).

Starts one runner and one server (quota 0) as processes, submits --jobs runs at once (a third
plain numbered lines, a third progress bars with ANSI colour on the terminal, a third chatty
writers killed by a 100 KB quota), and while they run, --readers threads loop GET /api/runs and
GET /api/runs/{name}/logs. Prints how the runs ended, the read count, errors (any non-200), and
read-latency percentiles per endpoint.
"""
import argparse, json, os, random, shutil, socket, subprocess, tempfile, threading, time, urllib.error, urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ADMIN = "bench-admin-token-0123456789"
RUNNER_TOKEN = "bench-runner-token-0123456789"


def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p


def dll(project, root=None):
    for config in ("Release", "Debug"):
        path = os.path.join(root or ROOT, f"src/{project}/bin/{config}/net10.0/LogQuota.{project}.dll")
        if os.path.exists(path):
            return path
    raise SystemExit(f"build src/{project} first")


def call(base, method, path, body=None):
    req = urllib.request.Request(base + path, method=method, data=None if body is None else json.dumps(body).encode(),
                                 headers={"Authorization": f"Bearer {ADMIN}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            data = r.read()
            return r.status, (json.loads(data) if data and r.headers.get_content_type().endswith("json") else data)
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def wait_healthy(base):
    deadline = time.monotonic() + 300  # a start-up on a machine far busier than its cores can take minutes
    while time.monotonic() < deadline:
        try:
            if call(base, "GET", "/api/healthcheck")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"{base} never became healthy")


def command(i, lines):
    m = f"J{i:04d}"
    kind = i % 3
    if kind == 0:
        return m, [f"seq -f '{m} plain %g' 1 {lines}"], None
    if kind == 1:
        return m, [f"for p in $(seq 1 {lines // 20}); do printf '\\r\\033[32m{m} progress %d\\033[0m' $p; "
                   f"[ $((p % 10)) -eq 0 ] && printf '\\n'; done; echo"], None
    return m, [f"seq -f '{m} chatty %g' 1 1000000"], 102400


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p / 100))] if values else float("nan")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--jobs", type=int, default=200)
    ap.add_argument("--lines", type=int, default=2000)
    ap.add_argument("--readers", type=int, default=4)
    a = ap.parse_args()

    d = tempfile.mkdtemp(prefix="logquota-bench-load-")
    os.chmod(d, 0o755)  # the runner's job directories lie below: a job's uid must be able to search its ancestors
    rport, sport = free_port(), free_port()
    base = f"http://127.0.0.1:{sport}"
    quiet = dict(os.environ, Logging__LogLevel__Default="Warning")
    log = open(os.path.join(d, "processes.log"), "w+")
    procs = []
    try:
        procs.append(subprocess.Popen(["dotnet", dll("Runner")], stdout=log, stderr=subprocess.STDOUT, env=dict(
            quiet, DSTACK_RUNNER_PORT=str(rport), DSTACK_RUNNER_DIR=os.path.join(d, "runner"),
            DSTACK_RUNNER_WORK_DIR=os.path.join(d, "work"), DSTACK_RUNNER_TOKEN=RUNNER_TOKEN)))
        wait_healthy(f"http://127.0.0.1:{rport}")
        procs.append(subprocess.Popen(["dotnet", dll("Server")], stdout=log, stderr=subprocess.STDOUT, env=dict(
            quiet, DSTACK_SERVER_PORT=str(sport), DSTACK_SERVER_DIR=os.path.join(d, "server"), DSTACK_SERVER_ADMIN_TOKEN=ADMIN,
            DSTACK_SERVER_LOG_QUOTA_PER_JOB_HOUR="0", DSTACK_SERVER_RUNNERS=f"http://127.0.0.1:{rport}",
            DSTACK_RUNNER_TOKEN=RUNNER_TOKEN, DSTACK_SERVER_POLL_INTERVAL="0.2")))
        wait_healthy(base)

        names = []
        started = time.monotonic()
        for i in range(a.jobs):
            _, cmds, quota = command(i, a.lines)
            body = {"run_name": f"load-{i}", "commands": cmds}
            if quota:
                body["log_quota_hour"] = quota
            status, answer = call(base, "POST", "/api/runs", body)
            if status != 201:
                raise SystemExit(f"submit {i}: {status} {answer}")
            names.append(f"load-{i}")

        stop = threading.Event()
        latencies = {"runs": [], "logs": []}
        errors = []

        def reader(seed):
            rnd = random.Random(seed)
            while not stop.is_set():
                for what, path in (("runs", "/api/runs"), ("logs", f"/api/runs/{rnd.choice(names)}/logs?limit=1000")):
                    t = time.monotonic()
                    status, answer = call(base, "GET", path)
                    latencies[what].append((time.monotonic() - t) * 1000)
                    if status != 200:
                        errors.append((what, status, answer[:200]))

        threads = [threading.Thread(target=reader, args=(s,), daemon=True) for s in range(a.readers)]
        for t in threads:
            t.start()
        while True:
            _, page = call(base, "GET", "/api/runs?limit=1000")  # one page holds every job of a load run (at most 1000)
            runs = page["runs"]
            ended = [r for r in runs if r["status"] in ("done", "failed", "terminated")]
            if len(ended) == a.jobs:
                break
            time.sleep(0.5)
        elapsed = time.monotonic() - started
        stop.set()
        for t in threads:
            t.join()

        outcome = {}
        for r in runs:
            key = f'{r["status"]} {r["status_message"]}' + (f' ({r["error"]})' if r["error"] else "")
            outcome[key] = outcome.get(key, 0) + 1
        print(f"{a.jobs} jobs ({a.lines} lines or a 100 KB quota kill each) ended in {elapsed:.1f} s: {outcome}")
        print(f"{sum(len(v) for v in latencies.values())} reads by {a.readers} readers, {len(errors)} errors {errors[:3]}")
        for what, values in latencies.items():
            print(f"  GET {what:4}: p50 {pct(values, 50):7.1f} ms  p90 {pct(values, 90):7.1f} ms  "
                  f"p99 {pct(values, 99):7.1f} ms  max {max(values or [float('nan')]):7.1f} ms  (n={len(values)})")
    finally:
        for p in reversed(procs):
            p.terminate()
            try:
                p.wait(timeout=60)
            except subprocess.TimeoutExpired:
                p.kill(); p.wait()
        log.close()
        shutil.rmtree(d, ignore_errors=True)
        shutil.rmtree(d + "-work", ignore_errors=True)


if __name__ == "__main__":
    import sys
    if sys.argv[1:2] == ["control-plane"]:
        import control_plane
        control_plane.main(sys.argv[2:])
    else:
        main()
