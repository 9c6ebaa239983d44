#!/usr/bin/env python3
"""GET /api/runs figures of issue #17, against the real server process (the Release build) on loopback.

Usage: python3 bench/runs_list.py [--quick] [--json PATH]    (after `dotnet build -c Release src/Server`;
`bench/run --only lists` does both). Two servers, each on a database of its own, one holding 100 finished runs (the
baseline) and one 100,000 (stored straight into SQLite after the server created the schema, as finished and released
jobs, which the processor leaves alone): the p99 of `GET /api/runs?limit=100` on each, the p99 of walking the big list
page by page with next_token, and the server's RSS before, during (peak) and after 20 parallel clients list the big one.
Writes {"figures": [...]} to PATH in the shared result format (bench/run).
"""
import argparse, http.client, json, os, signal, sqlite3, subprocess, sys, tempfile, threading, time, uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DLL = os.path.join(ROOT, "src/Server/bin/Release/net10.0/LogQuota.Server.dll")
TOKEN = "bench-admin-token-0123456789"
SPEC = json.dumps({"commands": ["true"], "env": None, "working_dir": None, "max_duration": None, "log_quota_hour": 52428800,
                   "tty": True, "log_quota_action": "kill", "log_quota_warn_at": [80], "log_quota_kill_grace": 0})


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, directory):
        self.dir, self.port, self.proc = directory, free_port(), None

    def start(self):
        env = dict(os.environ, DSTACK_SERVER_DIR=self.dir, DSTACK_SERVER_PORT=str(self.port), DSTACK_SERVER_ADMIN_TOKEN=TOKEN)
        env = {k: v for k, v in env.items() if not k.startswith("DSTACK_") or k in ("DSTACK_SERVER_DIR", "DSTACK_SERVER_PORT", "DSTACK_SERVER_ADMIN_TOKEN")}
        self.log = open(os.path.join(self.dir, "..", f"server-{self.port}.log"), "w")
        self.proc = subprocess.Popen(["dotnet", DLL], env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 300  # a start-up on a machine far busier than its cores can take minutes
        while time.monotonic() < deadline:
            try:
                if self.get("/api/healthcheck")[0] == 200:
                    return
            except OSError:
                pass
            if self.proc.poll() is not None:
                sys.exit(f"the server exited {self.proc.returncode}; see {self.log.name}")
            time.sleep(0.2)
        sys.exit("the server did not answer within 60 s")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()

    def get(self, path, conn=None):
        own = conn is None
        conn = conn or http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.request("GET", path, headers={"Authorization": f"Bearer {TOKEN}"})
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            if own:
                conn.close()

    def rss_mib(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            return next(int(l.split()[1]) for l in f if l.startswith("VmRSS:")) / 1024


def seed(directory, runs):
    db = sqlite3.connect(os.path.join(directory, "server.db"))
    # Every run belongs to a project; the server makes "main" at its first start.
    (project,) = db.execute("SELECT id FROM projects WHERE name = 'main'").fetchone()
    # The columns as the server's migrations left them: one the rows below do not name gets 0 where it must have a
    # value, so that a new column does not break the seed.
    def columns(table, given):
        names = []
        for _, name, _, notnull, default, pk in db.execute(f"PRAGMA table_info({table})"):
            if name in given or (notnull and default is None and not pk):
                names.append(name)
        return names
    start = int(time.time() * 1000) - runs * 1000
    run_rows, job_rows = [], []
    for i in range(runs):
        at = start + i * 1000
        run_id, job_id = str(uuid.uuid4()).upper(), str(uuid.uuid4()).upper()
        run_rows.append({"id": run_id, "project_id": project, "run_name": f"run-{i:06d}", "submitted_at": at})
        job_rows.append({"id": job_id, "run_id": run_id, "project_id": project, "job_spec": SPEC, "status": "Done",
                         "exit_status": 0, "runner_timestamp": 0, "submitted_at": at, "finished_at": at + 500,
                         "stop_requested": 0, "stop_sent": 0, "runner_released": 1})
    for table, rows in (("runs", run_rows), ("jobs", job_rows)):
        names = columns(table, rows[0])
        db.executemany(f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
                       [tuple(row.get(n, 0) for n in names) for row in rows])
    db.commit()
    db.close()


def p99(values):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def timed(server, path, conn):
    t = time.perf_counter()
    status, body = server.get(path, conn)
    if status != 200:
        sys.exit(f"GET {path}: {status} {body[:200]}")
    return (time.perf_counter() - t) * 1000, json.loads(body)


def figure(id_, name, value, unit, baseline, baseline_value, goal, met, note, ratio=None):
    if ratio is None and baseline_value:
        ratio = value / baseline_value
    note += f"; 1-min load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores when measured"
    return {"id": id_, "figure": name, "value": round(value, 3), "unit": unit, "baseline": baseline,
            "baseline_value": None if baseline_value is None else round(baseline_value, 3),
            "ratio": None if ratio is None else round(ratio, 3), "goal": goal, "met": bool(met), "note": note}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer requests")
    ap.add_argument("--json", metavar="PATH")
    a = ap.parse_args()
    if not os.path.exists(DLL):
        sys.exit(f"{DLL} not found: run `dotnet build -c Release src/Server` first")
    requests = 200 if a.quick else 1000
    figures = []
    with tempfile.TemporaryDirectory(prefix="logquota-runs-list-") as tmp:
        servers = {}
        try:
            for runs in (100, 100_000):
                directory = os.path.join(tmp, f"s{runs}")
                os.makedirs(directory)
                server = Server(directory)
                server.start()
                server.stop()
                seed(directory, runs)
                server.start()
                servers[runs] = server

            # Alternated, so that both see the same machine load: first pages of each, then a walk of the big list.
            first = {100: [], 100_000: []}
            conns = {n: http.client.HTTPConnection("127.0.0.1", s.port, timeout=60) for n, s in servers.items()}
            for n in servers:
                for _ in range(50):
                    timed(servers[n], "/api/runs?limit=100", conns[n])
            for _ in range(requests):
                for n in servers:
                    first[n].append(timed(servers[n], "/api/runs?limit=100", conns[n])[0])
            walk, token, pages = [], None, 0
            while pages < requests:
                ms, page = timed(servers[100_000], "/api/runs?limit=100" + (f"&next_token={token}" if token else ""), conns[100_000])
                walk.append(ms)
                pages += 1
                token = page["next_token"]
                if token is None:
                    token = None
            small, big, deep = p99(first[100]), p99(first[100_000]), p99(walk)
            figures.append(figure("runs_list_p99", "GET /api/runs?limit=100 p99, 100,000 stored runs", big, "ms",
                                  "the same with 100 stored runs", small, "<= 2 x", big <= 2 * small,
                                  f"{requests} requests each on one keep-alive connection, alternated"))
            figures.append(figure("runs_list_walk_p99", "GET /api/runs?limit=100 with next_token, walking 100,000 runs, p99", deep, "ms",
                                  "the first page with 100 stored runs", small, "<= 2 x", deep <= 2 * small,
                                  f"{len(walk)} consecutive pages from the newest"))

            # 20 clients at once, each listing 1000-row pages of the big list: the resident size must stay flat.
            big_server = servers[100_000]
            before, peak, stop = big_server.rss_mib(), [0.0], threading.Event()

            def sample():
                while not stop.is_set():
                    peak[0] = max(peak[0], big_server.rss_mib())
                    time.sleep(0.02)

            def client():
                conn = http.client.HTTPConnection("127.0.0.1", big_server.port, timeout=120)
                token = None
                for _ in range(10 if a.quick else 25):
                    _, page = timed(big_server, "/api/runs?limit=1000" + (f"&next_token={token}" if token else ""), conn)
                    token = page["next_token"]
                conn.close()

            sampler = threading.Thread(target=sample)
            sampler.start()
            clients = [threading.Thread(target=client) for _ in range(20)]
            for c in clients:
                c.start()
            for c in clients:
                c.join()
            stop.set()
            sampler.join()
            after = big_server.rss_mib()
            figures.append(figure("runs_list_rss", "server peak RSS, 20 parallel clients listing 100,000 runs (limit=1000 pages)",
                                  peak[0], "MiB", "RSS before the clients", before, "<= before + 100 MiB", peak[0] <= before + 100,
                                  f"RSS after: {after:.0f} MiB"))
        finally:
            for server in servers.values():
                server.stop()

    for f in figures:
        print(f"{f['figure']}: {f['value']} {f['unit']} (baseline {f['baseline']}: {f['baseline_value']}; ratio {f['ratio']}; goal {f['goal']}; "
              f"{'met' if f['met'] else 'MISSED'}; {f['note']})")
    if a.json:
        with open(a.json, "w") as out:
            json.dump({"figures": figures}, out, indent=2)


if __name__ == "__main__":
    main()
