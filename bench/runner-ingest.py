#!/usr/bin/env python3
"""Runner ingest throughput and quota-kill timing on a real runner process, with baselines run in
the same command. Usage (after `dotnet build`): python3 bench/runner-ingest.py [--mb 200]

Prints, for a job writing N MB of 100-byte lines with the quota off:
  - baseline: the same generator read through a pseudo-terminal by `script` (kernel pty limit),
    and piped to `cat > /dev/null`;
  - the runner: wall time from submit until a pull says nothing more will come (every byte pulled);
and for a 5 MiB quota against the same generator: bytes stored, and the time from the last stored
event to the final state (kill + reap + drain), from the runner's timestamps.
"""
import argparse, base64, json, os, shutil, socket, subprocess, sys, tempfile, time, urllib.request, uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOKEN = "bench-token-0123456789abcdef"

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

def call(base, method, path, body=None):
    req = urllib.request.Request(base + path, method=method, data=None if body is None else json.dumps(body).encode(),
                                 headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        data = r.read()
        return json.loads(data) if data else None

def run_job(base, command, quota, tty=True):
    job = str(uuid.uuid4())
    started = time.monotonic()
    call(base, "POST", "/api/jobs", {"job_id": job, "run": {"id": str(uuid.uuid4()), "run_name": "bench"},
                                     "job_spec": {"commands": [command], "log_quota_hour": quota, "tty": tty}})
    cursor, stored, states, last_log = 0, 0, [], None
    while True:
        p = call(base, "GET", f"/api/jobs/{job}/pull?timestamp={cursor}")
        for e in p["job_logs"]:
            stored += len(base64.b64decode(e["message"])); last_log = e["timestamp"]
        states += p["job_states"]; cursor = p["last_updated"]
        if not p["has_more"]:
            wall = time.monotonic() - started
            drift = states[-1]["timestamp"] - time.time() * 1000
            break
        if not p["job_logs"]:
            time.sleep(0.01)
    call(base, "DELETE", f"/api/jobs/{job}")
    return stored, states, last_log, wall, drift

def timed(cmd):
    t = time.monotonic(); subprocess.run(cmd, shell=True, check=True); return time.monotonic() - t

def main():
    ap = argparse.ArgumentParser(); ap.add_argument("--mb", type=int, default=200); a = ap.parse_args()
    lines = a.mb * 10_000  # 100-byte lines
    gen = f'yes "$(printf "%099d" 0)" | head -n {lines}'
    mb = lines * 100 / 1e6
    pty_base = timed(f"script -qfc '{gen}' /dev/null > /dev/null")
    pipe_base = timed(f"{gen} | cat > /dev/null")

    dll = os.path.join(ROOT, "src/Runner/bin/Debug/net10.0/LogQuota.Runner.dll")
    rel = os.path.join(ROOT, "src/Runner/bin/Release/net10.0/LogQuota.Runner.dll")
    dll = rel if os.path.exists(rel) else dll
    d = tempfile.mkdtemp(prefix="logquota-bench-"); port = free_port()
    env = dict(os.environ, DSTACK_RUNNER_PORT=str(port), DSTACK_RUNNER_DIR=d, DSTACK_RUNNER_TOKEN=TOKEN, Logging__LogLevel__Default="Warning")
    log = open(os.path.join(d, "runner.log"), "w+")
    runner = subprocess.Popen(["dotnet", dll], env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try: call(base, "GET", "/api/healthcheck"); break
            except OSError: time.sleep(0.05)
        results = {}
        for tty in (True, False):
            stored, states, _, dur, drift = run_job(base, gen, None, tty)
            results[tty] = (stored, dur, states[-1]["state"], drift)
        quota = 5 * 1024 * 1024
        kills = []
        for _ in range(5):
            stored, states, last_log, _, _ = run_job(base, gen, quota, True)
            kills.append((stored, states[-1]["timestamp"] - last_log, states[-1]["termination_reason"]))
    finally:
        runner.terminate(); runner.wait()
        log.seek(0); kill_ms = [float(x.split("rounds, ")[1].split(" ms")[0]) for x in log.read().split("\n") if "rounds, " in x]
        log.close(); shutil.rmtree(d, ignore_errors=True)

    print(f"generator: {mb:.0f} MB of 100-byte lines; runner: {os.path.relpath(dll, ROOT)}")
    print(f"baseline pty (script -qfc ... > /dev/null): {pty_base:.2f} s = {mb / pty_base:.0f} MB/s")
    print(f"baseline pipe (| cat > /dev/null):          {pipe_base:.2f} s = {mb / pipe_base:.0f} MB/s")
    for tty, (stored, dur, state, drift) in results.items():
        b = pty_base if tty else pipe_base
        print(f"runner tty={str(tty).lower():5}: {dur:.2f} s = {mb / dur:.0f} MB/s ({state}, {stored} bytes stored), ratio {b / dur:.2f} of baseline;"
              f" final timestamp ahead of the clock by {max(drift, 0) / 1000:.1f} s")
    for stored, ms, reason in kills:
        print(f"quota 5 MiB: {reason}, stored {stored} bytes (quota {quota}), last stored event -> final state {ms} ms (timestamps)")
    print("kill (SIGKILL of the tree until /proc shows none), as the runner logged it: " + ", ".join(f"{k:.1f} ms" for k in kill_ms))

if __name__ == "__main__":
    sys.exit(main())
