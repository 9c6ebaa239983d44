#!/usr/bin/env python3
"""Runner figures of issue #7, measured against a real runner process (the Release build), each next to
a baseline measured in the same run on the same machine.

Usage: python3 bench/runner.py [--quick] [--json PATH] [--figures ID,...]    (after `dotnet build -c Release
src/Runner`; `bench/run` does both). Writes {"figures": [...]} to PATH in the shared result format.
--figures measures only the named figures (ids below), e.g. `--figures tty_ingest`.

The runner is started on a free loopback port with a token and a temporary DSTACK_RUNNER_DIR, and is
always stopped and its directory removed, also on Ctrl-C or an error. Every process started by a job
inherits LOGQUOTA_BENCH_RUN=<uuid> (the runner passes its environment on), so anything a job left
behind is found and killed at the end too.

Figures:
  tty_ingest / pipe_ingest   a job writing N MB of 100-byte lines, quota off: submit -> final state
                             recorded with every byte spooled. Baselines: the same generator read
                             through a pty by a minimal reader (python os.read loop and `script -qfc`,
                             the faster counts), and piped to `cat > /dev/null`.
  kill_latency_p99           quota kills of a job whose tree holds a setsid'd child: from the read that
                             carried the crossing byte to every process of the job gone, as the runner
                             logs it; every kill is checked for survivors in /proc.
  overshoot_tty/_pipe        a job counting its own written bytes in an mmap'd file (survives SIGKILL)
                             under a 5 MiB quota: job's count - bytes the runner stored.
  runner_peak_rss            VmRSS every 50 ms while a job writes 1 GB (quick: 300 MB), quota off,
                             pulled concurrently as the server would; baseline: idle RSS after a warm-up.
  concurrent_jobs            20 jobs at once, each writing 10 MB under a 5 MiB quota, vs one alone.
"""
import argparse, base64, http.client, json, math, os, re, shutil, signal, socket, statistics, subprocess, sys
import tempfile, threading, time, uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DLL = os.path.join(ROOT, "src/Runner/bin/Release/net10.0/LogQuota.Runner.dll")
TOKEN = "bench-token-" + uuid.uuid4().hex
LINE = b"0" * 99 + b"\n"
LINE_BYTES = len(LINE)
EXPECTED = LINE * (5 * 1024 * 1024 // LINE_BYTES + 1)  # reference text to compare stored pages against
MIB = 1024 * 1024
FAR = 1 << 62  # a pull cursor beyond every event: answers only whether the job has ended


def gen(lines):
    """The shared generator: `lines` lines of 100 bytes ("000...0\\n")."""
    return f'yes "$(printf %099d 0)" | head -n {lines}'


def log(msg):
    print(f"[runner.py {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# A root runner runs each job under a uid of its own (SPEC §7), which can use neither a per-user Python (a pyenv
# under root's 0700 home: exit status 126) nor anything in a 0700 temporary directory.
JOB_PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable


def readable_dir(prefix):
    """A temporary directory every uid can read and search (mkdtemp makes it 0700)."""
    path = tempfile.mkdtemp(prefix=prefix)
    os.chmod(path, 0o755)
    return path


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Runner:
    """A runner process of its own: free port, token, temp dir, stdout captured for its log lines."""

    def __init__(self):
        self.dir = readable_dir("logquota-bench-runner-")
        # What jobs read (scripts, captures) and write (counters) lives here: world-writable with the sticky bit.
        self.shared = os.path.join(self.dir, "shared")
        os.mkdir(self.shared)
        os.chmod(self.shared, 0o1777)
        self.marker = "LOGQUOTA_BENCH_RUN=" + uuid.uuid4().hex
        self.port = free_port()
        self.log_path = os.path.join(self.dir, "runner.log")
        # The jobs' directories beside the temp dir (jobs under their own uids must reach them), and the marker passed
        # on to the jobs on purpose: their environment is reset.
        env = dict(os.environ, DSTACK_RUNNER_PORT=str(self.port), DSTACK_RUNNER_DIR=os.path.join(self.dir, "runner"),
                   DSTACK_RUNNER_WORK_DIR=os.path.join(self.dir, "work"), DSTACK_RUNNER_JOB_ENV_PASS="LOGQUOTA_BENCH_RUN",
                   DSTACK_RUNNER_TOKEN=TOKEN, Logging__LogLevel__Default="Warning",
                   DOTNET_SYSTEM_GLOBALIZATION_INVARIANT="1")
        key, value = self.marker.split("=", 1)
        env[key] = value
        self._log = open(self.log_path, "w")
        self.proc = subprocess.Popen(["dotnet", DLL], env=env, stdout=self._log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        self.local = threading.local()
        try:
            self._wait_healthy()
        except BaseException:
            self.close()
            raise

    def _wait_healthy(self):
        deadline = time.monotonic() + 300  # a start-up on a machine far busier than its cores can take minutes
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"runner exited with {self.proc.returncode}: {self.read_log()[-2000:]}")
            try:
                self.call("GET", "/api/healthcheck")
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def warm_up(self):
        """Brings the runner to steady state before anything is timed. Its first few hundred HTTP requests
        leave the runtime re-compiling ASP.NET's hot paths at a higher tier on a background thread for
        seconds (measured: ~0.9 s of CPU, a third of a core, while the bench polls), which would be charged
        to whatever figure runs first. So: one job per mode, ~600 requests, then wait for that thread to
        go quiet; and again, until a round compiles nothing. One round is not enough: the runtime starts
        counting calls only once tier-0 compiling has paused, so the methods of a round are promoted
        during the next one (measured: ~1000 methods, among them the job output path and the pull
        handler, re-compiled during the first timed 200 MB tty job, ~10% of the machine's CPU while it ran)."""
        for _ in range(4):
            before = self.jit_cpu()
            for tty in (False, True):
                job = self.submit(gen(20_000), None, tty)
                self.pull_all(job)
                for _ in range(300):
                    self.ended(job)
                self.delete(job)
            deadline, quiet, last = time.monotonic() + 15, 0, self.jit_cpu()
            while quiet < 3 and time.monotonic() < deadline:
                time.sleep(0.3)
                now = self.jit_cpu()
                quiet = quiet + 1 if now == last else 0
                last = now
            if last == before:
                return

    def jit_cpu(self):
        """CPU ticks used so far by the runtime's tiered-compilation thread(s)."""
        total = 0
        for tid in os.listdir(f"/proc/{self.proc.pid}/task"):
            try:
                with open(f"/proc/{self.proc.pid}/task/{tid}/stat") as f:
                    stat = f.read()
            except OSError:
                continue
            if "Tiered" in stat[stat.index("(") + 1:stat.rindex(")")]:
                fields = stat.rsplit(")", 1)[1].split()
                total += int(fields[11]) + int(fields[12])
        return total

    def read_log(self):
        with open(self.log_path) as f:
            return f.read()

    def rss(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        return 0

    def call(self, method, path, body=None):
        """One HTTP call on this thread's keep-alive connection; returns the decoded JSON (or None)."""
        conn = getattr(self.local, "conn", None)
        if conn is None:
            conn = self.local.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        data = None if body is None else json.dumps(body).encode()
        headers = {"Authorization": f"Bearer {TOKEN}"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        try:
            conn.request(method, path, body=data, headers=headers)
            resp = conn.getresponse()
            raw = resp.read()
        except (OSError, http.client.HTTPException):
            conn.close()
            self.local.conn = None
            raise
        if resp.status >= 300:
            raise RuntimeError(f"{method} {path}: {resp.status} {raw[:500]!r}")
        return json.loads(raw) if raw else None

    def submit(self, command, quota=None, tty=True):
        job = str(uuid.uuid4())
        self.call("POST", "/api/jobs", {"job_id": job, "run": {"id": str(uuid.uuid4()), "run_name": "bench"},
                                        "job_spec": {"commands": [command], "log_quota_hour": quota, "tty": tty}})
        return job

    def ended(self, job):
        """Cheap poll: a cursor beyond every event returns no events; has_more is false once the final state is recorded."""
        return not self.poll(job)["has_more"]

    def poll(self, job):
        return self.call("GET", f"/api/jobs/{job}/pull?timestamp={FAR}")

    def wait_ended(self, job, expected_bytes=None, since=None):
        """Returns the monotonic time at which the job was seen ended. Each poll is an HTTP request that costs the
        runner ~1 ms of CPU on a busy 2-core machine (measured: polling every ~10 ms added 0.1-0.15 s of runner CPU
        to a 1 s job), so polls are spaced: by the job's progress (log_bytes_hour against `expected_bytes`, half
        the estimated time left, 1-50 ms) when the size is known, else by 1% of the wait so far (1-20 ms). Either
        bounds the timing error to ~1%."""
        started = since or time.monotonic()
        while True:
            page = self.poll(job)
            if not page["has_more"]:
                return time.monotonic()
            elapsed = time.monotonic() - started
            stored = page["log_bytes_hour"]
            if expected_bytes and stored > 0:
                left = max(expected_bytes - stored, 0) / (stored / elapsed)
                time.sleep(min(0.05, max(0.001, left / 2)))
            else:
                time.sleep(min(0.02, max(0.001, elapsed * 0.01)))

    def pull_all(self, job, check_lines=True):
        """Pulls and decodes everything (as the server does); returns (stored bytes of the job's own output, final
        state, whole-line check). The runner's [logquota] marker lines (log_source runner) are not the job's output
        and do not count against its quota, so they are left out."""
        cursor, stored, states, ok = 0, 0, [], True
        while True:
            page = self.call("GET", f"/api/jobs/{job}/pull?timestamp={cursor}")
            for event in page["job_logs"]:
                if event.get("log_source", "stdout") == "runner":
                    continue
                message = base64.b64decode(event["message"])
                stored += len(message)
                if check_lines and not whole_lines(message):
                    ok = False
            states += page["job_states"]
            cursor = page["last_updated"]
            if not page["has_more"]:
                return stored, states[-1], ok
            if not page["job_logs"]:
                time.sleep(0.01)

    def delete(self, job):
        self.call("DELETE", f"/api/jobs/{job}")

    def close(self):
        # A second Ctrl-C must not cut the clean-up short and orphan the runner.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        try:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGTERM)
                try:
                    self.proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
        finally:
            for pid in pids_with(self.marker.encode()):
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            self._log.close()
            shutil.rmtree(self.dir, ignore_errors=True)
            shutil.rmtree(self.dir + "-work", ignore_errors=True)


def whole_lines(message):
    """True when the message is whole generator lines and nothing else."""
    n = len(message)
    if n % LINE_BYTES:
        return False
    return message == (EXPECTED[:n] if n <= len(EXPECTED) else LINE * (n // LINE_BYTES))


def pids_with(needle):
    """Live pids whose environment holds `needle` (a whole NAME=value entry)."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == os.getpid():
            continue
        try:
            with open(f"/proc/{name}/environ", "rb") as f:
                env = f.read()
            with open(f"/proc/{name}/stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state not in ("Z", "X") and (env.startswith(needle + b"\0") or b"\0" + needle + b"\0" in env or env.endswith(b"\0" + needle)):
            found.append(int(name))
    return found


def figure(id_, name, value, unit, baseline, baseline_value, goal, met, note, ratio=None):
    if ratio is None and baseline_value:
        ratio = value / baseline_value
    note += f"; 1-min load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores when measured"
    return {"id": id_, "figure": name, "value": round(value, 3), "unit": unit, "baseline": baseline,
            "baseline_value": None if baseline_value is None else round(baseline_value, 3),
            "ratio": None if ratio is None else round(ratio, 3), "goal": goal, "met": bool(met), "note": note}


def pty_read_baseline(command):
    """The minimal pty reader: the generator on a fresh pty, the master drained with os.read in a tight loop."""
    master, slave = os.openpty()
    started = time.monotonic()
    proc = subprocess.Popen(["/bin/sh", "-c", command], stdin=slave, stdout=slave, stderr=slave, start_new_session=True)
    os.close(slave)
    buf = bytearray(64 * 1024)
    total = 0
    while True:
        try:
            n = os.readv(master, [buf])
        except OSError:  # EIO: every slave descriptor closed
            break
        if n == 0:
            break
        total += n
    proc.wait()
    elapsed = time.monotonic() - started
    os.close(master)
    return elapsed, total


def timed_shell(command):
    started = time.monotonic()
    subprocess.run(["/bin/sh", "-c", command], check=True, stdin=subprocess.DEVNULL)
    return time.monotonic() - started


def ingest(runner, mb, tty, repeats):
    """Best of `repeats`: runner wall (submit -> final state with every byte spooled) and the baseline."""
    lines = mb * 10_000
    command = gen(lines)
    size = lines * LINE_BYTES
    runner_best, base_best, client_rates, detail = math.inf, math.inf, [], {}
    for _ in range(repeats):
        if tty:
            py_elapsed, py_bytes = pty_read_baseline(command)
            script_elapsed = timed_shell(f"script -qfc '{command}' /dev/null > /dev/null")
            detail["python os.read"] = min(detail.get("python os.read", math.inf), py_elapsed)
            detail["script -qfc"] = min(detail.get("script -qfc", math.inf), script_elapsed)
            if py_bytes < size:
                raise RuntimeError(f"pty baseline read {py_bytes} bytes, expected at least {size}")
            base_best = min(base_best, py_elapsed, script_elapsed)
        else:
            base_best = min(base_best, timed_shell(f"{command} | cat > /dev/null"))
            spool_like = os.path.join(runner.dir, "cat.out")
            detail["cat > a file"] = min(detail.get("cat > a file", math.inf), timed_shell(f"{command} | cat > {spool_like}"))
            os.remove(spool_like)
        started = time.monotonic()
        job = runner.submit(command, None, tty)
        runner_best = min(runner_best, runner.wait_ended(job, size) - started)
        pulled = time.monotonic()
        stored, final, whole = runner.pull_all(job)
        client_rates.append(stored / (time.monotonic() - pulled) / 1e6)
        runner.delete(job)
        if final["state"] != "done" or stored != size or not whole:
            raise RuntimeError(f"ingest job ended {final}, stored {stored} of {size} bytes, lines intact: {whole}")
    return size / runner_best / 1e6, size / base_best / 1e6, max(client_rates), {k: size / v / 1e6 for k, v in detail.items()}


def kill_latency(runner, kills):
    """Quota kills of a job with a setsid'd child; latency as the runner logs it, survivors from /proc."""
    quota = 1 * MIB
    command = f'setsid sleep 300 & yes "$(printf %099d 0)"'
    jobs, survivors, wrong = [], 0, []
    for _ in range(kills):
        job = runner.submit(command, quota, True)
        runner.wait_ended(job)
        survivors += len(pids_with(f"DSTACK_JOB_ID={job}".encode()))
        stored, final, whole = runner.pull_all(job)
        if final.get("termination_reason") != "log_quota_exceeded" or stored > quota or not whole:
            wrong.append((final, stored))
        runner.delete(job)
        jobs.append(job)
    pattern = re.compile(r"Job (\S+) exceeded its log quota of \d+ bytes; its whole process tree was gone ([\d.,]+) ms "
                         r"after the read that crossed it \((\d+) kill rounds\)")
    logged = {m.group(1): (float(m.group(2).replace(",", ".")), int(m.group(3))) for m in pattern.finditer(runner.read_log())}
    missing = [j for j in jobs if j not in logged]
    if missing:
        raise RuntimeError(f"no kill-latency line in the runner's log for {len(missing)} jobs")
    return [logged[j][0] for j in jobs], [logged[j][1] for j in jobs], survivors, wrong


COUNTING_JOB = r'''
import mmap, os, struct, sys
fd = os.open(sys.argv[1], os.O_RDWR)
counter = mmap.mmap(fd, 8)
block = b"0" * 99 + b"\n"
block *= 40  # 4000 bytes of whole lines per write(2)
total, write, pack = 0, os.write, struct.pack_into
while True:
    total += write(1, block)
    pack("<q", counter, 0, total)  # stored after every write: survives SIGKILL in the page cache
'''


def overshoot(runner, tty, trials):
    """Worst of `trials`: bytes the job counted as written minus bytes the runner stored, under a 5 MiB quota."""
    quota = 5 * MIB
    script = os.path.join(runner.shared, "counting_job.py")
    with open(script, "w") as f:
        f.write(COUNTING_JOB)
    os.chmod(script, 0o644)
    results = []
    for i in range(trials):
        counter = os.path.join(runner.shared, f"count-{tty}-{i}")
        with open(counter, "wb") as f:
            f.write(b"\0" * 8)
        os.chmod(counter, 0o666)  # written by the job's uid
        job = runner.submit(f"exec {JOB_PYTHON} {script} {counter}", quota, tty)
        runner.wait_ended(job)
        stored, final, whole = runner.pull_all(job)
        runner.delete(job)
        with open(counter, "rb") as f:
            written = int.from_bytes(f.read(8), "little")
        if final.get("termination_reason") != "log_quota_exceeded" or stored > quota or not whole:
            raise RuntimeError(f"overshoot job ended {final} with {stored} bytes stored")
        results.append(written - stored)
    return max(results), results


def peak_rss(runner, mb):
    """Peak and flatness of the runner's RSS while a pipe job writes `mb` MB and a puller drains it."""
    idle = statistics.median(sample_rss(runner, 1.0))
    lines = mb * 10_000
    job = runner.submit(gen(lines), None, False)
    outcome = {}

    def puller():
        try:
            outcome["result"] = runner.pull_all(job, check_lines=False)
        except Exception as e:  # reported by the main thread
            outcome["error"] = e

    thread = threading.Thread(target=puller)
    started = time.monotonic()
    thread.start()
    samples = []
    while thread.is_alive():
        samples.append(runner.rss())
        time.sleep(0.05)
    elapsed = time.monotonic() - started
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    stored, final, _ = outcome["result"]
    runner.delete(job)
    if final["state"] != "done" or stored != lines * LINE_BYTES:
        raise RuntimeError(f"RSS job ended {final} with {stored} bytes stored")
    half = len(samples) // 2
    return idle, max(samples), max(samples[:half] or samples), max(samples[half:] or samples), len(samples), elapsed


def sample_rss(runner, seconds):
    samples, end = [], time.monotonic() + seconds
    while time.monotonic() < end:
        samples.append(runner.rss())
        time.sleep(0.05)
    return samples


def concurrent(runner, jobs, trials_alone):
    """Wall time of `jobs` concurrent 10 MB jobs under a 5 MiB quota vs one alone; checks every outcome."""
    quota, command = 5 * MIB, gen(100_000)
    expected = quota // LINE_BYTES * LINE_BYTES

    def check(job):
        stored, final, whole = runner.pull_all(job)
        runner.delete(job)
        good = (final["state"] == "failed" and final.get("termination_reason") == "log_quota_exceeded"
                and stored == expected and whole)
        return good, f"{final['state']}/{final.get('termination_reason')} {stored} B"

    alone, bad = [], []
    for _ in range(trials_alone):
        started = time.monotonic()
        job = runner.submit(command, quota, True)
        alone.append(runner.wait_ended(job, quota) - started)
        good, what = check(job)
        if not good:
            bad.append(what)
    started = time.monotonic()
    ids = [runner.submit(command, quota, True) for _ in range(jobs)]
    # One job at a time, in submission order, each polled by its progress: a poll costs the runner CPU, and
    # polling all 20 every few ms would cost more than the jobs. The last one seen ended gives the wall time.
    for job in ids:
        runner.wait_ended(job, quota, started)
    wall = time.monotonic() - started
    for job in ids:
        good, what = check(job)
        if not good:
            bad.append(what)
    return wall, statistics.median(alone), bad, expected, pty_readers(jobs, trials_alone)


def pty_readers(jobs, trials_alone):
    """The machine's own limit for the same load: minimal pty readers of the 5 MiB the jobs store, one vs `jobs` at once."""
    command = gen(5 * MIB // LINE_BYTES + 1)
    one = statistics.median(pty_read_baseline(command)[0] for _ in range(trials_alone))
    threads = [threading.Thread(target=pty_read_baseline, args=(command,)) for _ in range(jobs)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return one, time.monotonic() - started


FIGURE_IDS = ("runner_peak_rss", "tty_ingest", "pipe_ingest", "kill_latency_p99", "overshoot_tty", "overshoot_pipe",
              "concurrent_jobs")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="smaller sizes, well under 35 s")
    ap.add_argument("--json", metavar="PATH", help="write {\"figures\": [...]} here")
    ap.add_argument("--figures", metavar="ID,...", help="only these figures: " + ", ".join(FIGURE_IDS))
    args = ap.parse_args()
    wanted = set(FIGURE_IDS if not args.figures else args.figures.split(","))
    if wanted - set(FIGURE_IDS):
        ap.error(f"unknown figure ids: {', '.join(sorted(wanted - set(FIGURE_IDS)))}; known: {', '.join(FIGURE_IDS)}")
    if not os.path.exists(DLL):
        sys.exit(f"{DLL} not found: run `dotnet build -c Release src/Runner` first")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # unwinds through the finally below
    signal.signal(signal.SIGINT, signal.default_int_handler)  # also when started with SIGINT ignored (`cmd &`)

    quick = args.quick
    tty_mb, pipe_mb, rss_mb = (50, 100, 300) if quick else (200, 200, 1000)
    # Best of several: other load only ever slows a run down, so the best run is the closest to the
    # machine's capability, for the runner and its baseline alike (they alternate).
    repeats, kills, trials = (2, 20, 2) if quick else (3, 30, 3)
    figures = []
    runner = Runner()
    try:
        log(f"runner pid {runner.proc.pid} on port {runner.port}; warm-up")
        runner.warm_up()

        if "runner_peak_rss" in wanted:
            log(f"peak RSS: {rss_mb} MB through a pipe, pulled concurrently")
            idle, peak, first, last, n, elapsed = peak_rss(runner, rss_mb)
            flat = last - first <= 16 * MIB
            figures.append(figure(
                "runner_peak_rss", f"runner peak RSS while a job writes {rss_mb} MB, quota off", peak / MIB, "MiB",
                "the runner idle after a warm-up job", idle / MIB, "<= idle + 100 MB, flat",
                peak <= idle + 100 * MIB and flat,
                f"tty: false (the fastest writer), pulled concurrently by a python client as the server would; "
                f"{n} samples every 50 ms over {elapsed:.1f} s; peak first half {first / MIB:.0f} MiB, last half "
                f"{last / MIB:.0f} MiB ({'flat' if flat else 'growing'}: last - first {(last - first) / MIB:+.0f} MiB, flat means <= 16)"
                + ("; quick mode writes 300 MB, not 1 GB" if quick else "")))

        timing = ("timed from submit until the runner has recorded the final state with every byte spooled "
                  "(polled with a cursor past every event, so the timing pays no base64/JSON); ")
        tty_rate = pipe_rate = None
        if "tty_ingest" in wanted:
            log(f"tty ingest: {tty_mb} MB x{repeats}")
            tty_rate, pty_rate, tty_client, pty_detail = ingest(runner, tty_mb, True, repeats)
            figures.append(figure(
                "tty_ingest", f"runner ingest, tty: true, quota off, {tty_mb} MB", tty_rate, "MB/s",
                "same generator through a pty by a minimal reader", pty_rate, ">= 0.9 x baseline", tty_rate >= 0.9 * pty_rate,
                timing + f"the python client then pulls+decodes it at {tty_client:.0f} MB/s; baseline = faster of "
                + ", ".join(f"{k} {v:.0f} MB/s" for k, v in pty_detail.items()) + f"; best of {repeats}"))
        if "pipe_ingest" in wanted:
            log(f"pipe ingest: {pipe_mb} MB x{repeats}")
            pipe_rate, cat_rate, pipe_client, pipe_detail = ingest(runner, pipe_mb, False, repeats)
            figures.append(figure(
                "pipe_ingest", f"runner ingest, tty: false, quota off, {pipe_mb} MB", pipe_rate, "MB/s",
                "same generator piped to cat > /dev/null", cat_rate, ">= 0.5 x baseline", pipe_rate >= 0.5 * cat_rate,
                timing + f"the python client then pulls+decodes it at {pipe_client:.0f} MB/s (slower than the runner, "
                f"hence not in the timing); best of {repeats}; for scale, the runner also writes every byte to its spool "
                f"file, and the same generator piped to `cat > a file` in the runner's directory ran at "
                f"{pipe_detail['cat > a file']:.0f} MB/s (runner / that = {pipe_rate / pipe_detail['cat > a file']:.2f})"))

        if "kill_latency_p99" in wanted:
            log(f"kill latency: {kills} quota kills")
            latencies, rounds, survivors, wrong = kill_latency(runner, kills)
            ordered = sorted(latencies)
            p99 = ordered[max(0, math.ceil(0.99 * len(ordered)) - 1)]
            figures.append(figure(
                "kill_latency_p99", f"kill latency p99 over {kills} quota kills: crossing byte read -> every process gone",
                p99, "ms", None, None, "p99 <= 50 ms over >= 20 kills", p99 <= 50 and kills >= 20 and survivors == 0 and not wrong,
                f"job: `setsid sleep 300 & yes <100-byte line>`, tty, 1 MiB quota; measured by the runner from the moment the read that "
                f"carried the crossing byte returned (the first read of the chunk it gathers, so never late) to a /proc scan "
                f"finding none of the job's processes, parsed from its log; median "
                f"{statistics.median(latencies):.2f} ms, max {ordered[-1]:.2f} ms, kill rounds {min(rounds)}-{max(rounds)}; "
                f"survivors found: {survivors}" + (f"; WRONG outcomes: {wrong}" if wrong else "")))

        for tty, rate in ((True, tty_rate), (False, pipe_rate)):
            if f"overshoot_{'tty' if tty else 'pipe'}" not in wanted:
                continue
            log(f"overshoot tty={tty}: {trials} trials")
            worst, all_ = overshoot(runner, tty, trials)
            bound = None if rate is None else 3 * rate * 1e6
            figures.append(figure(
                f"overshoot_{'tty' if tty else 'pipe'}", f"overshoot at full speed, 5 MiB quota, tty: {str(tty).lower()}",
                worst / MIB, "MiB", "dstack's design bound: 3 s of output at the measured ingest rate", None if bound is None else bound / MIB,
                "<= 1 MiB", worst <= MIB,
                f"worst of {trials}: " + ", ".join(f"{x} B" for x in all_) + "; the job (python, 4000-byte writes) "
                "counts what write(2) accepted into an mmap'd file; overshoot = that count - bytes stored (the count "
                "lags by one write if the kill lands between a write and its count, hence small negatives)"))

        if "concurrent_jobs" in wanted:
            log("concurrency: 20 jobs")
            wall, alone, bad, expected, (reader_one, reader_all) = concurrent(runner, 20, 3)
            figures.append(figure(
                "concurrent_jobs", "20 concurrent jobs, each 10 MB under a 5 MiB quota: total wall", wall, "s",
                "one such job alone (median of 3)", alone, "every status right; total <= 3 x one job",
                not bad and wall <= 3 * alone,
                f"tty: true; each must end failed/log_quota_exceeded with exactly {expected} B of whole lines stored; "
                + (f"WRONG: {bad}" if bad else "all 20 right") + f"; the machine's own limit for this load, measured "
                f"in the same run: 20 minimal pty readers of the same 5 MiB at once take {reader_all:.2f} s vs "
                f"{reader_one:.3f} s for one ({reader_all / reader_one:.1f} x) on {os.cpu_count()} cores, because the "
                f"kernel's pty path is CPU-bound; runner / that = {wall / reader_all:.2f}"))
    finally:
        runner.close()

    for f in figures:
        log(f"{f['id']}: {f['value']} {f['unit']} (baseline {f['baseline_value']}, ratio {f['ratio']}) met={f['met']}")
    if args.json:
        with open(args.json, "w") as out:
            json.dump({"figures": figures}, out, indent=2)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        log("interrupted: the runner was stopped and its directory removed")
        sys.exit(130)
