#!/usr/bin/env python3
"""Memory returned after a burst: server and runner RSS idle, at the peak of a burst of short jobs, and a while after
they have all ended, against the real processes (the Release builds) on loopback.

    python3 bench/memory.py [--jobs 1000] [--after 60] [--embedded] [--quick] [--json PATH]
    (after `dotnet build -c Release src/Server`, which builds the runner too)

Starts one runner and one server (quota 0, SQLite) as processes, as bench/load.py does; --embedded starts the server
alone, with its local runner in its process (the one-command setup), and measures that one process. Idle is measured after a warm-up
of 10 jobs (the JIT, the database's connections and the HTTP clients are then what they stay), 10 s after they ended.
Then --jobs runs are submitted at once (8 clients); each prints a line, sleeps 3 s (so they are alive together) and
prints 50 more. RSS (VmRSS of /proc/PID/status) of both processes is sampled every 0.25 s; the peak is the highest
sample. Once every run has ended, the processes are left alone for --after seconds and measured again. The goal: back
within +64 MiB of idle. --quick: 100 jobs, 20 s after.
Writes {"figures": [...]} to PATH in the shared result format (bench/run).
"""
import argparse, concurrent.futures, json, os, shutil, signal, socket, subprocess, sys, tempfile, threading, time, urllib.error, urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ADMIN = "bench-admin-token-0123456789"
RUNNER_TOKEN = "bench-runner-token-0123456789"
MIB = 1024 * 1024
GOAL_MIB = 64


def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p


def dll(project):
    path = os.path.join(ROOT, f"src/{project}/bin/Release/net10.0/LogQuota.{project}.dll")
    if not os.path.exists(path):
        sys.exit(f"build it first: dotnet build -c Release src/{project}")
    return path


def call(base, method, path, body=None):
    req = urllib.request.Request(base + path, method=method, data=None if body is None else json.dumps(body).encode(),
                                 headers={"Authorization": f"Bearer {ADMIN}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
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
    sys.exit(f"{base} never became healthy")


def rss(proc):
    if proc.poll() is not None:
        raise RuntimeError(f"{proc.args[1]} exited with {proc.returncode}")
    with open(f"/proc/{proc.pid}/status") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmRSS:"))


def submit_all(base, prefix, count):
    def one(i):
        body = {"run_name": f"{prefix}-{i}", "commands": [f"echo J{i} start; sleep 3; seq -f 'J{i} line %g' 1 50"]}
        status, answer = call(base, "POST", "/api/runs", body)
        if status != 201:
            raise RuntimeError(f"submit {prefix}-{i}: {status} {answer!r:.200}")
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        list(pool.map(one, range(count)))


def wait_all_ended(base, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status, answer = call(base, "GET", "/api/runs?only_active=true&limit=1")
        if status == 200 and not answer["runs"]:
            return
        time.sleep(1)
    sys.exit(f"runs still active after {timeout} s")


def figure(id_, name, value, unit, goal=None, met=None, note=""):
    note += f"; 1-min load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores when measured"
    return {"id": id_, "figure": name, "value": round(value, 1), "unit": unit, "baseline": None, "baseline_value": None,
            "ratio": None, "goal": goal, "met": met, "note": note}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--jobs", type=int, default=1000)
    ap.add_argument("--after", type=float, default=60)
    ap.add_argument("--quick", action="store_true", help="100 jobs, 20 s after")
    ap.add_argument("--json", metavar="PATH")
    ap.add_argument("--embedded", action="store_true", help="the server with its local runner in its process")
    ap.add_argument("--log", metavar="PATH", help="keep the processes' output there")
    ap.add_argument("--env", action="append", default=[], metavar="NAME=VALUE", help="for both processes (to try a GC setting)")
    a = ap.parse_args()
    if any("=" not in e for e in a.env):
        ap.error("--env takes NAME=VALUE")
    if a.quick:
        a.jobs, a.after = 100, 20

    quiet = dict(os.environ, Logging__LogLevel__Default="Warning")
    quiet.update(e.split("=", 1) for e in a.env)
    d = tempfile.mkdtemp(prefix="logquota-bench-memory-")
    os.chmod(d, 0o755)  # the job directories lie below: a job's uid must be able to search its ancestors
    rport, sport = free_port(), free_port()
    base = f"http://127.0.0.1:{sport}"
    log = open(os.path.join(d, "processes.log"), "w+")
    procs = {}
    samples = {"server": [], "runner": []}
    stop = threading.Event()
    try:
        if not a.embedded:
            procs["runner"] = subprocess.Popen(["dotnet", dll("Runner")], stdout=log, stderr=subprocess.STDOUT, env=dict(
                quiet, DSTACK_RUNNER_PORT=str(rport), DSTACK_RUNNER_DIR=os.path.join(d, "runner"),
                DSTACK_RUNNER_WORK_DIR=os.path.join(d, "work"), DSTACK_RUNNER_TOKEN=RUNNER_TOKEN))
            wait_healthy(f"http://127.0.0.1:{rport}")
        procs["server"] = subprocess.Popen(["dotnet", dll("Server")], stdout=log, stderr=subprocess.STDOUT, env=dict(
            quiet, DSTACK_SERVER_PORT=str(sport), DSTACK_SERVER_DIR=os.path.join(d, "server"), DSTACK_SERVER_ADMIN_TOKEN=ADMIN,
            DSTACK_SERVER_LOG_QUOTA_PER_JOB_HOUR="0", DSTACK_SERVER_RUNNERS="" if a.embedded else f"http://127.0.0.1:{rport}",
            DSTACK_RUNNER_TOKEN=RUNNER_TOKEN, DSTACK_RUNNER_WORK_DIR=os.path.join(d, "work")))
        wait_healthy(base)

        submit_all(base, "warm", 10)
        wait_all_ended(base, 300)
        time.sleep(10)
        idle = {name: rss(p) for name, p in procs.items()}

        def sampler():
            while not stop.is_set():
                for name, p in procs.items():
                    samples[name].append(rss(p))
                time.sleep(0.25)
        threading.Thread(target=sampler, daemon=True).start()

        started = time.monotonic()
        submit_all(base, "burst", a.jobs)
        submitted = time.monotonic() - started
        wait_all_ended(base, 3600)
        ended = time.monotonic() - started
        print(f"{a.jobs} runs submitted in {submitted:.1f} s, all ended after {ended:.1f} s", file=sys.stderr)
        time.sleep(a.after)
        stop.set()
        after = {name: rss(p) for name, p in procs.items()}
        status, answer = call(base, "GET", "/api/runs?limit=1000")
        done = sum(1 for r in answer["runs"] if r["run_name"].startswith("burst-") and r["status"] == "done")
        print(f"{done} of {a.jobs} runs ended done", file=sys.stderr)

        figures = []
        for name in procs:
            label = "server with its local runner" if a.embedded else name
            key = f"memory_{name}{'_embedded' if a.embedded else ''}"
            peak = max(samples[name])
            back = (after[name] - idle[name]) / MIB
            figures += [
                figure(f"{key}_idle", f"{label} RSS idle (after 10 warm-up jobs)", idle[name] / MIB, "MiB"),
                figure(f"{key}_peak", f"{label} peak RSS, {a.jobs} short jobs at once", peak / MIB, "MiB",
                       note=f"{done} of {a.jobs} runs done; all ended {ended:.0f} s after the first submit"),
                figure(f"{key}_after", f"{label} RSS {a.after:.0f} s after the last of {a.jobs} jobs ended", after[name] / MIB, "MiB"),
                figure(f"{key}_returned", f"{label} RSS above idle {a.after:.0f} s after the burst", back, "MiB",
                       goal=f"<= {GOAL_MIB} MiB", met=back <= GOAL_MIB),
            ]
        for f in figures:
            print(f"{f['figure']}: {f['value']} {f['unit']}" + (f" (goal {f['goal']}: {'met' if f['met'] else 'missed'})" if f["goal"] else ""))
        if a.json:
            with open(a.json, "w") as out:
                json.dump({"figures": figures}, out, indent=2)
    except BaseException:
        log.seek(0)
        print("".join(log.readlines()[-40:]), file=sys.stderr)
        raise
    finally:
        stop.set()
        for p in procs.values():
            p.send_signal(signal.SIGTERM)
        for p in procs.values():
            try:
                p.wait(60)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        log.close()
        if a.log:
            shutil.copyfile(os.path.join(d, "processes.log"), a.log)
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
