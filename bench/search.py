#!/usr/bin/env python3
"""Searching a large stored log (GET /api/runs/{name}/logs?q=...) against a plain full read of it (?format=text).

Usage: python3 bench/search.py [--quick] [--mb N] [--json PATH]   (after `dotnet build -c Release src/Server`).
One server process (the Release build, SQLite) gets one real run; its log is then grown to N MiB (default 1024; --quick
128) by writing log events straight into the stopped server's database: events of 16 KiB, 256 lines of 64 bytes each,
as a job writing fast is stored, with ten lines "needle <i>" spread through it. The server is started again and, in
turn, after one read of the whole log to warm the page cache, the whole log is read as text (the baseline), searched for a substring (ten matches), searched with a regular
expression, and its last line looked up (line=last), each through every page to the end. For each: the wall time and
the server's peak RSS during that phase alone (VmHWM, reset through /proc/PID/clear_refs before the phase, as root; as a
normal user, who cannot write the server's clear_refs, the largest VmRSS sampled every 5 ms during the phase).
The figures are the ratios of each search to the text read. Writes {"figures": [...]} to PATH (bench/run's format).
"""
import argparse, http.client, json, os, signal, sqlite3, subprocess, sys, tempfile, threading, time, urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DLL = os.path.join(ROOT, "src/Server/bin/Release/net10.0/LogQuota.Server.dll")
TOKEN = "bench-admin-token-0123456789"
HEADERS = {"Authorization": f"Bearer {TOKEN}"}
LINES_PER_EVENT, LINE_BYTES = 256, 64
NEEDLES = 10


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def status_kib(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/{pid}/status")


def request(conn, path):
    conn.request("GET", path, headers=HEADERS)
    response = conn.getresponse()
    return response.status, response.read()


class Server:
    def __init__(self, tmp, port):
        self.tmp, self.port = tmp, port
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("DSTACK_")}
        self.env.update(DSTACK_SERVER_DIR=os.path.join(tmp, "server"), DSTACK_SERVER_PORT=str(port), DSTACK_SERVER_ADMIN_TOKEN=TOKEN,
                        DSTACK_RUNNER_WORK_DIR=os.path.join(tmp, "work"), Logging__LogLevel__Default="Warning")
        self.process = None

    def start(self):
        self.log = open(os.path.join(self.tmp, "server.log"), "a")
        self.process = subprocess.Popen(["dotnet", DLL], env=self.env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 300
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
                if request(conn, "/api/healthcheck")[0] == 200:
                    return conn
            except OSError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                sys.exit("the server did not start:\n" + open(self.log.name).read()[-2000:])
            time.sleep(0.3)

    def stop(self):
        if self.process is None:
            return
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(120)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self.process = None
        self.log.close()


def grow(db_path, mib):
    """Appends mib MiB of 16 KiB events to the one job's log, ten needle lines spread through it; returns the lines added."""
    db = sqlite3.connect(db_path)
    db.execute("PRAGMA synchronous=OFF")
    job_id, = db.execute("SELECT id FROM jobs").fetchone()
    last, = db.execute("SELECT MAX(timestamp) FROM log_events WHERE job_id = ?", (job_id,)).fetchone()
    events = mib * 1024 * 1024 // (LINES_PER_EVENT * LINE_BYTES)
    needle_at = {events * (i + 1) // (NEEDLES + 1): i for i in range(NEEDLES)}
    batch = []
    for e in range(events):
        rows = [f"row-{e * LINES_PER_EVENT + r:010d} ".ljust(LINE_BYTES - 1, "x") for r in range(LINES_PER_EVENT)]
        if e in needle_at:
            rows[LINES_PER_EVENT // 2] = f"needle {needle_at[e]}".ljust(LINE_BYTES - 1, " ")
        batch.append((job_id, last + 1 + e, ("\n".join(rows) + "\n").encode(), "Stdout"))
        if len(batch) == 1000:
            db.executemany("INSERT INTO log_events (job_id, timestamp, message, log_source) VALUES (?, ?, ?, ?)", batch)
            batch.clear()
    db.executemany("INSERT INTO log_events (job_id, timestamp, message, log_source) VALUES (?, ?, ?, ?)", batch)
    db.commit()
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return events * LINES_PER_EVENT


def phase(conn, pid, read):
    """Runs read(conn); returns (seconds, peak RSS MiB during it, what read returned). The peak is the kernel's VmHWM,
    reset first through clear_refs. A normal user cannot write the server's clear_refs (the server makes itself
    non-dumpable, so its /proc files are root's): the peak is then the largest VmRSS sampled every 5 ms during the phase."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")  # resets VmHWM to the current RSS
        sampled = None
    except PermissionError:
        sampled = [status_kib(pid, "VmRSS")]
        done = threading.Event()

        def sample():
            while not done.wait(0.005):
                sampled.append(status_kib(pid, "VmRSS"))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
    start = time.monotonic()
    try:
        result = read(conn)
    finally:
        if sampled is not None:
            done.set()
            sampler.join()
    seconds = time.monotonic() - start
    peak_kib = status_kib(pid, "VmHWM") if sampled is None else max(sampled + [status_kib(pid, "VmRSS")])
    return seconds, peak_kib / 1024, result


def read_text(conn):
    conn.request("GET", "/api/runs/big/logs?format=text", headers=HEADERS)
    response = conn.getresponse()
    total = 0
    while chunk := response.read(1 << 20):
        total += len(chunk)
    if response.status != 200:
        sys.exit(f"text read: {response.status}")
    return total


def search(query):
    def read(conn):
        matches, token, pages = [], None, 0
        while True:
            q = dict(query, **({} if "line" in query else {"limit": "1000"}), **({"next_token": token} if token else {}))
            status, body = request(conn, "/api/runs/big/logs?" + urllib.parse.urlencode(q))
            if status != 200:
                sys.exit(f"search {query}: {status} {body[:300]!r}")
            page = json.loads(body)
            matches += page["matches"]
            pages += 1
            token = page["next_token"]
            if token is None:
                return len(matches), pages, page["last_line"]
    return read


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--mb", type=int)
    parser.add_argument("--json")
    args = parser.parse_args()
    mib = args.mb or (128 if args.quick else 1024)
    if not os.path.exists(DLL):
        sys.exit(f"{DLL} is missing: dotnet build -c Release src/Server")

    with tempfile.TemporaryDirectory(prefix="logquota-search-") as tmp:
        os.chmod(tmp, 0o711)  # a root server runs jobs under uids of their own
        server = Server(tmp, free_port())
        try:
            conn = server.start()
            conn.request("POST", "/api/runs", body=json.dumps({"run_name": "big", "commands": ["echo seeded"]}),
                         headers=dict(HEADERS, **{"Content-Type": "application/json"}))
            response = conn.getresponse()
            if response.status != 201:
                sys.exit(f"submit: {response.status} {response.read()[:300]!r}")
            response.read()
            deadline = time.monotonic() + 300
            while json.loads(request(conn, "/api/runs/big")[1])["status"] not in ("done", "failed", "terminated"):
                if time.monotonic() > deadline:
                    sys.exit("the seed run did not end")
                time.sleep(0.5)
            server.stop()

            started = time.monotonic()
            added = grow(os.path.join(tmp, "server", "server.db"), mib)
            print(f"grew the log by {mib} MiB ({added} lines) in {time.monotonic() - started:.0f} s")

            conn = server.start()
            pid = server.process.pid
            search({"line": "last"})(conn)  # a first read of the whole file: every phase then reads the same page cache
            idle = status_kib(pid, "VmRSS") / 1024
            text_s, text_rss, text_bytes = phase(conn, pid, read_text)
            sub_s, sub_rss, (sub_n, sub_pages, lines) = phase(conn, pid, search({"q": "NEEDLE"}))
            re_s, re_rss, (re_n, re_pages, _) = phase(conn, pid, search({"q": r"^needle \d+ *$", "regex": "true"}))
            last_s, last_rss, (last_n, _, _) = phase(conn, pid, search({"line": "last"}))
        finally:
            server.stop()

    if (sub_n, re_n, last_n) != (NEEDLES, NEEDLES, 1):
        sys.exit(f"wrong answers: substring {sub_n}, regex {re_n}, line=last {last_n} matches")
    print(f"log: {text_bytes / 2**20:.0f} MiB, {lines} lines; server RSS before the phases {idle:.0f} MiB")
    rows = [("full read, format=text (baseline)", text_s, text_rss, 1),
            (f"search q=NEEDLE, {sub_pages} pages", sub_s, sub_rss, sub_pages),
            (f"search regex=true, {re_pages} pages", re_s, re_rss, re_pages),
            ("line=last", last_s, last_rss, 1)]
    for name, seconds, rss, _ in rows:
        print(f"{name:40} {seconds:7.1f} s  {text_bytes / 2**20 / seconds:7.1f} MiB/s  peak RSS {rss:6.0f} MiB"
              f"  time x{seconds / text_s:.2f}, peak RSS x{rss / text_rss:.2f} of the full read")

    def figure(id_, name, value, unit, baseline=None, baseline_value=None, goal=None, met=None):
        # The schema every sub-benchmark of bench/run writes.
        return {"id": id_, "figure": name, "value": value, "unit": unit, "baseline": baseline, "baseline_value": baseline_value,
                "ratio": None if not baseline_value else round(value / baseline_value, 2), "goal": goal, "met": met,
                "note": f"1-min load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores when measured"}

    full = f"full read of the {mib} MiB log as text"
    figures = [figure("search_full_read_s", f"full read of a {mib} MiB log as text", round(text_s, 1), "s"),
               figure("search_full_read_rss", f"server peak RSS, full read of a {mib} MiB log", round(text_rss), "MiB")]
    for (name, seconds, rss, _), key in zip(rows[1:], ("substring", "regex", "last_line")):
        figures.append(figure(f"search_{key}_s", f"{name}, {mib} MiB log", round(seconds, 1), "s", full, round(text_s, 1)))
        figures.append(figure(f"search_{key}_rss", f"server peak RSS, {name}, {mib} MiB log", round(rss), "MiB", full, round(text_rss),
                              "bounded: <= 1.5x the full read's", rss / text_rss <= 1.5))
    if args.json:
        with open(args.json, "w") as out:
            json.dump({"figures": figures}, out)


if __name__ == "__main__":
    main()
