#!/usr/bin/env python3
"""The control plane's cost per job: one runner-wide stream (DSTACK_SERVER_PULL=stream) against one pull per job per
pass (DSTACK_SERVER_PULL=job), in one command, on the same machine, one after the other. Not part of the test suite.
Usage (after `dotnet build -c Release src/Server` and `src/Runner`; Debug builds are used when Release is absent):

    python3 bench/load.py control-plane [--jobs 2000] [--runners 4] [--seconds 120] [--modes stream,job]
                                        [--phases empty,busy,idle] [--before TREE]
    .ci/postgres.sh -- python3 bench/load.py control-plane [--jobs 2000] [--runners 4] [--seconds 120] --modes stream,job,postgres
    .ci/postgres.sh -- python3 bench/load.py control-plane --modes postgres-idle [--jobs 500] [--seconds 60] [--before TREE]

The defaults are the full size (2,000 jobs printing one line a second for 120 s over 4 runners, on one machine); give a
smaller --jobs and --seconds to prove the script on a busy machine.

For each mode it starts --runners runners and one server (SQLite, default poll interval) as processes, then:
  1. busy: submits --jobs runs at once, each printing one line per second for --seconds (bash, builtin sleep, the write
     time in the line); records each submit's latency (a 503, the database not written in time, is asked again a
     second later, as its detail says, and counted) and the time until all are `running`; samples the server's and
     the runners' CPU from /proc over the steady part; follows five jobs' logs as `logquota logs -f` does (the event
     stream of GET logs?follow=true) to measure write -> visible in the API
     (p50/p99), and checks afterwards that every job stored every line exactly once.
  2. idle: the same number of jobs running `sleep`, CPU of server and runners per job-minute.
The mode `postgres` (needs LOGQUOTA_TEST_POSTGRES, which .ci/postgres.sh sets) runs the busy jobs against two server
replicas on one PostgreSQL database (a database of its own, dropped afterwards), submitted to both in turn, and SIGKILLs
the first replica halfway through the jobs' lines: it reports how long after the kill the runners' streams and the jobs
it held were taken over by the other replica (from the database: the rows whose lease_owner names the killed process),
and checks that every job stored every line exactly once.
The mode `postgres-idle` (also under .ci/postgres.sh) starts two replicas on one PostgreSQL database and --jobs jobs
running `sleep`, submitted to both in turn, and reports the CPU per idle job-minute of the replicas and runners and,
apart, of PostgreSQL itself (its postmaster with every child, live or ended: the leases are kept there).
Prints one table per mode and the ratios stream / job. --phases picks the phases (empty: the processes with no job for 20 s,
their fixed cost). --before TREE runs each mode first with the Release builds of another checkout (e.g. a `git worktree`
of the commit before a change, built with `dotnet build -c Release src/Server src/Runner`) and prints the ratios
after / before: a change's effect measured in one command, on the same load.
For the cost of starting and of idling, each phase also reports the server's and the runners' CPU seconds (from /proc)
from the first submit until every job is `running`, per job, and per idle job-minute.
"""
import argparse, base64, json, os, re, shutil, subprocess, tempfile, threading, time, urllib.request

import load

CLK_TCK = os.sysconf("SC_CLK_TCK")
LINE = re.compile(rb"t=(\d+\.\d+) i=(\d+)")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime


def start_runners(d, mode, runners, log, jobs, root=None):
    quiet = dict(os.environ, Logging__LogLevel__Default="Warning")
    procs, urls = [], []
    for r in range(runners):
        port = load.free_port()
        procs.append(subprocess.Popen(["dotnet", load.dll("Runner", root)], stdout=log, stderr=subprocess.STDOUT, env=dict(
            quiet, DSTACK_RUNNER_PORT=str(port), DSTACK_RUNNER_DIR=os.path.join(d, f"runner-{mode}-{r}"),
            DSTACK_RUNNER_WORK_DIR=os.path.join(d, f"work-{mode}-{r}"), DSTACK_RUNNER_TOKEN=load.RUNNER_TOKEN,
            DSTACK_RUNNER_MAX_JOBS=str(max(jobs, 1)))))
        urls.append(f"http://127.0.0.1:{port}")
    try:
        for url in urls:
            load.wait_healthy(url)
    except BaseException:
        stop_system(procs, None)  # a runner that never answered leaves no process behind
        raise
    return procs, urls


def start_system(d, mode, runners, jobs, root=None):
    label = mode + ("-before" if root else "")
    quiet = dict(os.environ, Logging__LogLevel__Default="Warning")
    log = open(os.path.join(d, f"processes-{label}.log"), "w+")
    procs, urls = start_runners(d, label, runners, log, jobs, root)
    sport = load.free_port()
    procs.append(subprocess.Popen(["dotnet", load.dll("Server", root)], stdout=log, stderr=subprocess.STDOUT, env=dict(
        quiet, DSTACK_SERVER_PORT=str(sport), DSTACK_SERVER_DIR=os.path.join(d, f"server-{label}"), DSTACK_SERVER_ADMIN_TOKEN=load.ADMIN,
        DSTACK_SERVER_LOG_QUOTA_PER_JOB_HOUR="0", DSTACK_SERVER_RUNNERS=",".join(urls), DSTACK_RUNNER_TOKEN=load.RUNNER_TOKEN,
        DSTACK_SERVER_PULL=mode)))
    base = f"http://127.0.0.1:{sport}"
    try:
        load.wait_healthy(base)
    except BaseException:
        stop_system(procs, log)
        raise
    return base, procs, log


def stop_system(procs, log):
    for p in reversed(procs):
        p.terminate()  # all at once: a runner's shutdown waits for its jobs' deletes, which no server sends any more
    for p in reversed(procs):
        try:
            p.wait(timeout=90)
        except subprocess.TimeoutExpired:
            p.kill(); p.wait()
    if log:
        log.close()


def runs(base):
    out, token = [], None
    while True:
        status, page = load.call(base, "GET", "/api/runs?limit=1000" + (f"&next_token={token}" if token else ""))
        if status != 200:
            raise SystemExit(f"GET /api/runs: {status} {page}")
        out += page["runs"]
        token = page.get("next_token")
        if not token:
            return out


def submit_all(base, prefix, jobs, command, bases=None, procs=None, cpu=None, unavailable=None, looks=None):
    """Submits from 8 threads at once (as many clients would); the submits' latencies and the seconds from the first
    submit until every job is `running`. With procs and a dict cpu, puts into cpu each process's CPU seconds from the first
    submit until every job is `running` (the cost of starting them). A 503 (the database could not be written in time)
    is asked again a second later, as its detail says, up to 60 times: its latency runs from the first ask to the 201,
    and each 503 is appended to the list unavailable when one is given. Each listing of the runs it made to look for
    `running` is appended to the list looks when one is given (their CPU is in cpu's)."""
    bases = bases or [base]
    before = {p.pid: cpu_seconds(p.pid) for p in procs or []}
    latencies, started, failed = [], time.monotonic(), []

    def submit(i):
        t = time.monotonic()
        for _ in range(60):
            status, answer = load.call(bases[i % len(bases)], "POST", "/api/runs", {"run_name": f"{prefix}-{i}", "commands": [command], "tty": False})
            if status != 503 or unavailable is None:
                break
            unavailable.append(f"{prefix}-{i}")
            time.sleep(1)
        latencies.append((time.monotonic() - t) * 1000)
        if status != 201:
            failed.append(f"submit {prefix}-{i}: {status} {answer}")

    def worker(k):
        for i in range(k, jobs, 8):
            submit(i)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if failed:
        raise SystemExit(failed[0])
    while True:
        active = [r for r in runs(base) if r["run_name"].startswith(prefix + "-")]
        if looks is not None:
            looks.append(time.monotonic())
        if sum(r["status"] == "running" for r in active) == jobs:
            elapsed = time.monotonic() - started
            if cpu is not None:
                cpu.update({pid: cpu_seconds(pid) - seconds for pid, seconds in before.items()})
            return latencies, elapsed
        if time.monotonic() - started > 600:
            raise SystemExit(f"{prefix}: not all {jobs} jobs running after 600 s")
        time.sleep(1)  # each look lists every run: at 0.2 s the looking cost the server more than the starts


def follow(base, name, stop, visible):
    """Follows one job's log as `logquota logs -f` and the web page do (GET logs?follow=true, event stream): for each line
    written after the follow began, the time its page arrived minus its write time. The server pushes a page from the
    commit that stored it, so this is write -> visible to a follower, with no polling period in it."""
    began = time.time()
    seen = set()
    req = urllib.request.Request(base + f"/api/runs/{name}/logs?follow=true",
                                 headers={"Authorization": f"Bearer {load.ADMIN}", "Accept": "text/event-stream"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:  # a keep-alive comes every 15 s
            event = None
            while not stop.is_set():
                line = r.readline()
                if not line:
                    return
                line = line.decode().rstrip("\n")
                if line.startswith("event: "):
                    event = line[7:]
                elif line.startswith("data: ") and event == "page":
                    now = time.time()
                    for e in json.loads(line[6:])["logs"]:
                        for t, i in LINE.findall(base64.b64decode(e["message"])):
                            if float(t) > began and i not in seen:
                                seen.add(i)
                                visible.append(now - float(t))
                elif line.startswith("data: ") and event == "end":
                    return
    except (OSError, ValueError) as e:  # a stalled stream is a figure missing, said once, not a crash of the bench
        print(f"follower of {name}: {e}", flush=True)


def measure(base, procs, window):
    before = {p.pid: cpu_seconds(p.pid) for p in procs}
    t = time.monotonic()
    time.sleep(window)
    wall = time.monotonic() - t
    return {p.pid: (cpu_seconds(p.pid) - before[p.pid]) / wall for p in procs}, wall


def scenario(d, mode, a, root=None):
    base, procs, log = start_system(d, mode, a.runners, a.jobs, root)
    server, runner_procs = procs[-1], procs[:-1]
    result = {}
    try:
        if "empty" in a.phases:
            cpu, wall = measure(base, procs, 20)
            result["empty server+runners ms CPU per minute"] = sum(cpu.values()) * 60 * 1000
        if "busy" in a.phases:
            busy_phase(base, procs, a, result)
        if "idle" in a.phases:
            idle_phase(base, procs, a, result)
    finally:
        stop_system(procs, log)
    return result


def start_cost(result, phase, started, server, jobs):
    """CPU of the server and of the runners from the first submit until every job is `running`, per job."""
    result[f"{phase} start: server ms CPU per job"] = started[server.pid] * 1000 / jobs
    result[f"{phase} start: runners ms CPU per job"] = sum(v for pid, v in started.items() if pid != server.pid) * 1000 / jobs


def busy_phase(base, procs, a, result):
    server, runner_procs = procs[-1], procs[:-1]
    busy = f"bash -c 'exec 3<> <(:); for i in $(seq 1 {a.seconds}); do echo \"t=$EPOCHREALTIME i=$i\"; read -t 1 -u 3; done; true'"
    started, unavailable = {}, []
    latencies, to_running = submit_all(base, "busy", a.jobs, busy, procs=procs, cpu=started, unavailable=unavailable)
    result["busy submits answered 503"] = len(unavailable)
    start_cost(result, "busy", started, server, a.jobs)
    stop, visible = threading.Event(), []
    followers = [threading.Thread(target=follow, args=(base, f"busy-{i}", stop, visible), daemon=True)
                 for i in range(0, a.jobs, max(1, a.jobs // 5))][:5]
    for f in followers:
        f.start()
    cpu, wall = measure(base, procs, max(5, a.seconds - to_running - 10))
    stop.set()  # the followers are daemons: one waiting for its next frame is left to end with its job
    result["submit p99 ms"] = load.pct(latencies, 99)
    result["all running s"] = to_running
    result["busy server cores"] = cpu[server.pid]
    result["busy runner cores (max)"] = max(cpu[p.pid] for p in runner_procs)
    result["visible p50 s"] = load.pct(visible, 50)
    result["visible p99 s"] = load.pct(visible, 99)
    result["visible: lines measured"] = len(visible)
    deadline = time.monotonic() + a.seconds + 300
    while sum(r["status"] in ("done", "failed", "terminated") for r in runs(base) if r["run_name"].startswith("busy-")) < a.jobs:
        if time.monotonic() > deadline:
            raise SystemExit("the busy jobs did not all end within 300 s of their last line")
        time.sleep(1)
    result["busy jobs not done"] = sum(r["status"] != "done" for r in runs(base) if r["run_name"].startswith("busy-"))
    result["jobs not stored exactly once"] = not_exactly_once(base, "busy", a)


def idle_phase(base, procs, a, result):
    server = procs[-1]
    started, unavailable = {}, []
    latencies, to_running = submit_all(base, "idle", a.jobs, f"sleep {a.seconds + 60}", procs=procs, cpu=started, unavailable=unavailable)
    result["idle submits answered 503"] = len(unavailable)
    result["idle submit p99 ms"] = load.pct(latencies, 99)
    result["idle all running s"] = to_running
    start_cost(result, "idle", started, server, a.jobs)
    time.sleep(10)  # the starts' own after-work (the runtime's tier-up of what they ran, their garbage) is not idling
    cpu, wall = measure(base, procs, a.seconds)
    total = sum(cpu.values()) * wall
    result["idle server cores"] = cpu[server.pid]
    result["idle ms CPU per job-minute"] = total * 1000 / (a.jobs * wall / 60)
    result["idle: server ms CPU per job-minute"] = cpu[server.pid] * wall * 1000 / (a.jobs * wall / 60)
    for r in runs(base):
        if r["status"] == "running":
            load.call(base, "POST", f"/api/runs/{r['run_name']}/stop")


def not_exactly_once(base, prefix, a):
    expected = [str(i).encode() for i in range(1, a.seconds + 1)]
    wrong = 0
    for i in range(a.jobs):
        status, text = load.call(base, "GET", f"/api/runs/{prefix}-{i}/logs?format=text")
        if status != 200 or [m[1] for m in LINE.findall(text)] != expected:
            wrong += 1
    return wrong


def psql(url, sql):
    out = subprocess.run(["psql", url, "-XAtq", "-c", sql], check=True, capture_output=True, text=True)
    return out.stdout.strip()


def postgres_database(a):
    admin = os.environ.get("LOGQUOTA_TEST_POSTGRES")
    if not admin:
        raise SystemExit("the postgres modes need LOGQUOTA_TEST_POSTGRES: .ci/postgres.sh -- python3 bench/load.py control-plane ...")
    name = f"bench_cp_{os.getpid()}_{int(time.monotonic() * 1000)}"
    psql(admin, f"CREATE DATABASE {name}")
    return admin, name, admin.rsplit("/", 1)[0] + "/" + name


def start_replicas(d, label, url, urls, log, root=None):
    """Two server replicas on the database at url, sharing the runners at urls; each answers its health check."""
    quiet = dict(os.environ, Logging__LogLevel__Default="Warning")
    replicas, bases = [], []
    for r in range(2):
        port = load.free_port()
        replicas.append(subprocess.Popen(["dotnet", load.dll("Server", root)], stdout=log, stderr=subprocess.STDOUT, env=dict(
            quiet, DSTACK_SERVER_PORT=str(port), DSTACK_SERVER_DIR=os.path.join(d, f"server-{label}-{r}"),
            DSTACK_SERVER_ADMIN_TOKEN=load.ADMIN, DSTACK_SERVER_LOG_QUOTA_PER_JOB_HOUR="0", DSTACK_DATABASE_URL=url,
            DSTACK_SERVER_RUNNERS=",".join(urls), DSTACK_RUNNER_TOKEN=load.RUNNER_TOKEN, DSTACK_SERVER_PULL="stream")))
        bases.append(f"http://127.0.0.1:{port}")
        load.wait_healthy(bases[-1])
    return replicas, bases


def postgres_cpu(url):
    """CPU seconds of the whole PostgreSQL cluster so far: its postmaster, with what its ended children used (cutime and
    cstime, counted when they are reaped), and every live child (backends, autovacuum, the WAL and background writers)."""
    data = psql(url, "SELECT setting FROM pg_settings WHERE name = 'data_directory'")
    with open(os.path.join(data, "postmaster.pid")) as f:
        postmaster = int(f.readline())
    total = 0.0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile: its parent's cutime has it
        if int(entry) == postmaster:
            total += sum(int(x) for x in fields[11:15]) / CLK_TCK  # utime, stime, cutime, cstime
        elif int(fields[1]) == postmaster:
            total += (int(fields[11]) + int(fields[12])) / CLK_TCK
    return total


def postgres_idle_scenario(d, a, root=None):
    """Two replicas on one PostgreSQL database and --jobs idle jobs: CPU per idle job-minute of the replicas and the
    runners, and of PostgreSQL."""
    admin, name, url = postgres_database(a)
    label = "postgres-idle" + ("-before" if root else "")
    log = open(os.path.join(d, f"processes-{label}.log"), "w+")
    procs, urls = start_runners(d, label, a.runners, log, a.jobs, root)
    replicas = []
    result = {}
    try:
        replicas, bases = start_replicas(d, label, url, urls, log, root)
        started = {}
        latencies, to_running = submit_all(bases[0], "pgidle", a.jobs, f"sleep {a.seconds + 60}", bases=bases, procs=procs + replicas, cpu=started)
        result["idle submit p99 ms"] = load.pct(latencies, 99)
        result["idle all running s"] = to_running
        time.sleep(10)  # the starts' own after-work is not idling
        pg_before = postgres_cpu(url)
        cpu, wall = measure(bases[0], procs + replicas, a.seconds)
        pg = postgres_cpu(url) - pg_before
        job_minutes = a.jobs * wall / 60
        result["idle: replicas ms CPU per job-minute"] = sum(cpu[p.pid] for p in replicas) * wall * 1000 / job_minutes
        result["idle: runners ms CPU per job-minute"] = sum(cpu[p.pid] for p in procs) * wall * 1000 / job_minutes
        result["idle: PostgreSQL ms CPU per job-minute"] = pg * 1000 / job_minutes
        result["idle: all ms CPU per job-minute"] = (sum(cpu.values()) * wall + pg) * 1000 / job_minutes
    finally:
        stop_system(procs + replicas, log)
        psql(admin, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    return result


def postgres_scenario(d, a, root=None):
    """Two replicas on one PostgreSQL database, the first SIGKILLed halfway through the busy jobs' lines."""
    admin, name, url = postgres_database(a)
    label = "postgres" + ("-before" if root else "")
    log = open(os.path.join(d, f"processes-{label}.log"), "w+")
    procs, urls = start_runners(d, label, a.runners, log, a.jobs, root)
    replicas = []
    result = {}
    try:
        replicas, bases = start_replicas(d, label, url, urls, log, root)
        busy = f"bash -c 'exec 3<> <(:); for i in $(seq 1 {a.seconds}); do echo \"t=$EPOCHREALTIME i=$i\"; read -t 1 -u 3; done; true'"
        latencies, to_running = submit_all(bases[1], "pg", a.jobs, busy, bases=bases)
        result["submit p99 ms"] = load.pct(latencies, 99)
        result["all running s"] = to_running
        time.sleep(max(0, a.seconds / 2 - to_running))
        victim = replicas[0]
        mine = f"%:{victim.pid}:%"
        streams_held = int(psql(url, f"SELECT count(*) FROM runner_streams WHERE lease_owner LIKE '{mine}'"))
        jobs_held = int(psql(url, f"SELECT count(*) FROM jobs WHERE NOT runner_released AND lease_owner LIKE '{mine}'"))
        victim.kill()
        killed = time.monotonic()
        victim.wait()
        streams_at = jobs_at = None
        while streams_at is None or jobs_at is None:
            now = time.monotonic() - killed
            if streams_at is None and int(psql(url, f"SELECT count(*) FROM runner_streams WHERE lease_owner LIKE '{mine}'")) == 0:
                streams_at = now
            if jobs_at is None and int(psql(url, f"SELECT count(*) FROM jobs WHERE NOT runner_released AND lease_owner LIKE '{mine}'")) == 0:
                jobs_at = now
            if now > 300:
                raise SystemExit("the killed replica's streams or jobs were not taken over within 300 s")
            time.sleep(0.2)
        result["streams the killed replica read"] = streams_held
        result["jobs the killed replica held"] = jobs_held
        result["streams taken over after the kill s"] = streams_at
        result["jobs taken over after the kill s"] = jobs_at
        deadline = time.monotonic() + a.seconds + 300
        while sum(r["status"] in ("done", "failed", "terminated") for r in runs(bases[1]) if r["run_name"].startswith("pg-")) < a.jobs:
            if time.monotonic() > deadline:
                raise SystemExit("the jobs did not all end within 300 s of their last line")
            time.sleep(1)
        result["jobs not done"] = sum(r["status"] != "done" for r in runs(bases[1]) if r["run_name"].startswith("pg-"))
        result["jobs not stored exactly once"] = not_exactly_once(bases[1], "pg", a)
    finally:
        stop_system(procs + replicas, log)
        psql(admin, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    return result


def main(argv=None):
    ap = argparse.ArgumentParser(prog="load.py control-plane")
    ap.add_argument("--jobs", type=int, default=2000)
    ap.add_argument("--runners", type=int, default=4)
    ap.add_argument("--seconds", type=int, default=120)
    ap.add_argument("--modes", default="stream,job")
    ap.add_argument("--before", help="another checkout whose Release builds run each mode first, for after / before ratios")
    ap.add_argument("--phases", default="busy,idle",
                    help="of empty (the processes with no job, 20 s), busy, idle; the postgres mode runs busy only, postgres-idle idle only")
    a = ap.parse_args(argv)
    d = tempfile.mkdtemp(prefix="logquota-bench-cp-")
    os.chmod(d, 0o755)
    results = {}
    try:
        for mode in a.modes.split(","):
            run = {"postgres-idle": lambda root=None: postgres_idle_scenario(d, a, root),
                   "postgres": lambda root=None: postgres_scenario(d, a, root)}.get(mode, lambda root=None: scenario(d, mode, a, root))
            if a.before:
                results[f"{mode} before"] = run(a.before)
                print(f"{mode} before: {json.dumps({k: round(v, 4) for k, v in results[mode + ' before'].items()})}", flush=True)
            results[mode] = run()
            print(f"{mode}: {json.dumps({k: round(v, 4) for k, v in results[mode].items()})}", flush=True)
    finally:
        shutil.rmtree(d, ignore_errors=True)
    pg = {k: results.pop(k) for k in ("postgres before", "postgres") if k in results}
    modes = list(results)
    for k, v in pg.items():
        print(f"\nPostgreSQL ({k}), 2 replicas, the first SIGKILLed halfway: " + json.dumps({x: round(y, 3) for x, y in v.items()}))
    if not modes:
        return
    print(f"\n{a.jobs} jobs over {a.runners} runners, {a.seconds} s, one line per second (busy) or sleep (idle); "
          f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    # Ratios: after / before for each mode run both ways, else stream / job.
    pairs = [(m, f"{m} before") for m in modes if f"{m} before" in results] or (
        [("stream", "job")] if {"stream", "job"} <= set(modes) else [])
    print("| figure | " + " | ".join(modes) + "".join(f" | {x} / {y}" for x, y in pairs) + " |")
    print("| --- " * (len(modes) + 1 + len(pairs)) + "|")
    for key in dict.fromkeys(k for m in modes for k in results[m]):
        cells = [f"{results[m][key]:.3f}" if key in results[m] else "—" for m in modes]
        ratios = "".join(f" | {results[x][key] / results[y][key]:.2f}" if results[y].get(key) and key in results[x] else " | —" for x, y in pairs)
        print(f"| {key} | " + " | ".join(cells) + ratios + " |")


if __name__ == "__main__":
    main()
