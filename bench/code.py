#!/usr/bin/env python3
"""Code upload figures (SPEC §9): the real CLI, server and local runner (Release builds) against tar in the same run.

Usage: python3 bench/code.py [--quick] [--json PATH]   (after `dotnet build -c Release src/Server` and
`dotnet build -c Release src/Cli`; `bench/run --only code` does both). A generated tree of 5,000 files, 50 MB (--quick:
1,000 files, 10 MB): half random bytes, half text, in 50 directories. Figures:
  - packing: `logquota run --code TREE` against a closed port (it packs, then fails to connect), less the same
    command with --no-code (the CLI's start-up), against `tar czf` of the tree;
  - upload and unpack: `logquota run --code TREE -- true` to the end (pack, HEAD, PUT, submit, the server hands the
    archive to the runner, the runner unpacks it, the job runs), less `logquota run --no-code -- true`, against
    `tar czf` plus `tar xzf` of the same tree; one file changes before each run so every run uploads;
  - submit to first log line, with code (the tree, already on the server) and without: POST /api/runs, then
    GET .../logs until the first event, median of 20 each, interleaved.
Writes {"figures": [...]} to PATH in the shared result format (bench/run).
"""
import argparse, http.client, json, os, random, shutil, signal, socket, statistics, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SERVER = os.path.join(ROOT, "src/Server/bin/Release/net10.0/LogQuota.Server.dll")
CLI = os.path.join(ROOT, "src/Cli/bin/Release/net10.0/logquota.dll")
TOKEN = "bench-admin-token-0123456789"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_tree(root, files, total_bytes, seed=7):
    """Files of log-normal sizes scaled to total_bytes: even ones random bytes, odd ones text (compresses ~3-4x)."""
    rng = random.Random(seed)
    weights = [rng.lognormvariate(0, 1.2) for _ in range(files)]
    scale = total_bytes / sum(weights)
    words = [rng.randbytes(rng.randint(2, 9)).hex() for _ in range(2000)]
    for i, weight in enumerate(weights):
        size = max(1, int(weight * scale))
        directory = os.path.join(root, f"pkg{i % 50:02d}", f"sub{i % 7}")
        os.makedirs(directory, exist_ok=True)
        path = os.path.join(directory, f"file{i:05d}" + (".bin" if i % 2 == 0 else ".txt"))
        if i % 2 == 0:
            data = rng.randbytes(size)
        else:
            text, length = [], 0
            while length < size:
                line = " ".join(rng.choice(words) for _ in range(8)) + f" {rng.random():.6f}\n"
                text.append(line)
                length += len(line)
            data = "".join(text).encode()[:size]
        with open(path, "wb") as f:
            f.write(data)


def timed(command, cwd, env=None, expect=0):
    started = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if expect is not None and result.returncode != expect:
        raise RuntimeError(f"{' '.join(command)} exited {result.returncode}:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
    return elapsed, result


class Server:
    """The built server with its local runner, as `dotnet run --project src/Server` starts it."""

    def __init__(self, directory):
        self.dir, self.port, self.proc = directory, free_port(), None

    def start(self):
        work = os.path.join(self.dir, "jobs-open")
        os.makedirs(work)
        os.chmod(self.dir, 0o711)
        os.chmod(work, 0o755)  # jobs under other uids reach their directories through it
        env = {k: v for k, v in os.environ.items() if not k.startswith("DSTACK_")}
        env.update(DSTACK_SERVER_DIR=os.path.join(self.dir, "server"), DSTACK_SERVER_PORT=str(self.port),
                   DSTACK_SERVER_ADMIN_TOKEN=TOKEN, DSTACK_SERVER_POLL_INTERVAL="0.1",
                   DSTACK_RUNNER_WORK_DIR=os.path.join(work, "work"), Logging__LogLevel__Default="Warning")
        self.log = open(os.path.join(self.dir, "server.log"), "w")
        self.proc = subprocess.Popen(["dotnet", SERVER], env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 300  # a start-up on a machine far busier than its cores can take minutes
        while time.monotonic() < deadline:
            try:
                if self.request("GET", "/api/healthcheck")[0] == 200:
                    return
            except OSError:
                pass
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited {self.proc.returncode}; see {self.log.name}")
            time.sleep(0.2)
        raise RuntimeError("the server did not answer within 90 s")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        if self.proc:
            self.log.close()

    def request(self, method, path, body=None, headers=None, conn=None):
        own = conn is None
        conn = conn or http.client.HTTPConnection("127.0.0.1", self.port, timeout=300)
        try:
            conn.request(method, path, body=body, headers={"Authorization": f"Bearer {TOKEN}", **(headers or {})})
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            if own:
                conn.close()

    @property
    def cli_env(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith("DSTACK_")}
        env.update(DSTACK_SERVER_URL=f"http://127.0.0.1:{self.port}", DSTACK_TOKEN=TOKEN)
        return env


def first_line_seconds(server, conn, name, code_hash):
    body = {"run_name": name, "commands": ["echo first"], "tty": False}
    if code_hash:
        body["code_hash"] = code_hash
    started = time.perf_counter()
    status, answer = server.request("POST", "/api/runs", json.dumps(body), {"Content-Type": "application/json"}, conn)
    if status != 201:
        raise RuntimeError(f"POST /api/runs: {status} {answer[:300]!r}")
    deadline = started + 120
    while time.perf_counter() < deadline:
        status, answer = server.request("GET", f"/api/runs/{name}/logs?limit=1", conn=conn)
        if status == 200 and json.loads(answer)["logs"]:
            return time.perf_counter() - started
        time.sleep(0.005)
    raise RuntimeError(f"run {name} printed nothing within 120 s")


def figure(id_, name, value, unit, baseline, baseline_value, goal, met, note, ratio=None):
    if ratio is None and baseline_value:
        ratio = value / baseline_value
    note += f"; 1-min load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores when measured"
    return {"id": id_, "figure": name, "value": None if value is None else round(value, 3), "unit": unit, "baseline": baseline,
            "baseline_value": None if baseline_value is None else round(baseline_value, 3),
            "ratio": None if ratio is None else round(ratio, 3), "goal": goal, "met": met, "note": note}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="1,000 files, 10 MB, fewer repetitions")
    ap.add_argument("--json", metavar="PATH")
    a = ap.parse_args()
    for dll in (SERVER, CLI):
        if not os.path.exists(dll):
            sys.exit(f"{dll} not found: run `dotnet build -c Release src/Server` and `dotnet build -c Release src/Cli` first")
    files, size = (1000, 10_000_000) if a.quick else (5000, 50_000_000)
    repeats, firsts = (2, 5) if a.quick else (5, 20)
    figures, failed = [], False
    with tempfile.TemporaryDirectory(prefix="logquota-bench-code-") as tmp:
        os.chmod(tmp, 0o711)  # a root runner's jobs run under uids of their own and cross it to their directories
        tree = os.path.join(tmp, "tree")
        make_tree(tree, files, size)
        nonce = os.path.join(tree, "nonce.txt")
        label = f"{files:,} files, {size / 1e6:.0f} MB"
        dotnet_cli = ["dotnet", CLI]
        closed = {**{k: v for k, v in os.environ.items() if not k.startswith("DSTACK_")}, "DSTACK_SERVER_URL": f"http://127.0.0.1:{free_port()}"}

        # Packing: the CLI packs and then fails to reach a closed port; its start-up is measured the same way without code.
        tar_c, tar_x, pack, startup = [], [], [], []

        # The baseline unpacks as the runner does: into a fresh directory under a parent marked the top of a hierarchy
        # (chattr +T, where the file system has it), so neither pays ext4's cost of files deleted minutes before.
        untar_parent = os.path.join(tmp, "untar")
        os.makedirs(untar_parent)
        subprocess.run(["chattr", "+T", untar_parent], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        for i in range(repeats):
            archive = os.path.join(tmp, "baseline.tar.gz")
            tar_c.append(timed(["tar", "czf", archive, "-C", tree, "."], tmp)[0])
            out = tempfile.mkdtemp(dir=untar_parent)
            tar_x.append(timed(["tar", "xzf", archive, "-C", out], tmp)[0])
            shutil.rmtree(out)
            pack.append(timed(dotnet_cli + ["run", "--code", tree, "--", "true"], tmp, closed, expect=1)[0])
            startup.append(timed(dotnet_cli + ["run", "--no-code", "--", "true"], tmp, closed, expect=1)[0])
        czf, xzf = statistics.median(tar_c), statistics.median(tar_x)
        packing = statistics.median(pack) - statistics.median(startup)
        tar_bytes = os.path.getsize(os.path.join(tmp, "baseline.tar.gz"))
        figures.append(figure("code_pack", f"CLI packing, {label} (gzip'd tar to a temp file + SHA-256)", packing, "s",
                              "tar czf of the same tree", czf, "reported", None,
                              f"median of {repeats}; the CLI's start-up ({statistics.median(startup):.2f} s, same command with --no-code) "
                              f"subtracted; tar's archive {tar_bytes / 1e6:.1f} MB"))

        server = Server(os.path.join(tmp, "system"))
        try:
            server.start()
            with_code, without = [], []
            for i in range(repeats):
                with open(nonce, "w") as f:
                    f.write(f"{i} {time.time()}\n")  # a new hash: every run uploads and unpacks
                with_code.append(timed(dotnet_cli + ["run", "--name", f"bench-code-{i}", "--no-tty", "--code", tree, "--", "true"],
                                       tmp, server.cli_env)[0])
                without.append(timed(dotnet_cli + ["run", "--name", f"bench-none-{i}", "--no-tty", "--no-code", "--", "true"],
                                     tmp, server.cli_env)[0])
            overhead = statistics.median(with_code) - statistics.median(without)
            baseline = czf + xzf
            figures.append(figure("code_upload_unpack", f"code upload + unpack through CLI, server and runner, {label}", overhead, "s",
                                  "tar czf + tar xzf of the same tree", baseline, "<= 1.5 x", overhead <= 1.5 * baseline,
                                  f"median of {repeats}: `logquota run --code TREE -- true` to its end ({statistics.median(with_code):.2f} s) "
                                  f"less `logquota run --no-code -- true` ({statistics.median(without):.2f} s)"))

            # Submit to first log line: the tree is on the server and the runner after the runs above.
            with open(nonce, "w") as f:
                f.write("first-line\n")
            _, result = timed(dotnet_cli + ["run", "--name", "bench-first-upload", "--no-tty", "--code", tree, "--", "true"], tmp, server.cli_env)
            short = result.stderr.split("sha256 ")[1][:8]
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
            status, answer = server.request("GET", "/api/runs/bench-first-upload", conn=conn)
            code_hash = json.loads(answer)["jobs"][0]["job_spec"]["code_hash"]
            assert code_hash.startswith(short), (code_hash, short)
            times = {"code": [], "none": []}
            for i in range(firsts):
                times["code"].append(first_line_seconds(server, conn, f"bench-first-code-{i}", code_hash))
                times["none"].append(first_line_seconds(server, conn, f"bench-first-none-{i}", None))
            code_ms, none_ms = statistics.median(times["code"]) * 1000, statistics.median(times["none"]) * 1000
            figures.append(figure("code_first_line", f"submit to first log line with code ({label}, held by server and runner)", code_ms, "ms",
                                  "the same without code", none_ms, "reported", None,
                                  f"median of {firsts} each, interleaved; POST /api/runs, then GET logs?limit=1 every 5 ms; "
                                  f"server poll interval 0.1 s; with code the runner unpacks the tree for every job"))
        except (RuntimeError, OSError, KeyError, IndexError, ValueError) as e:
            failed = True
            figures.append(figure("code_system_failed", "code upload through the real system", None, None, None, None, None, None,
                                  f"failed: {str(e)[:500]} (needs the server's /api/code and the runner's unpacking)"))
        finally:
            server.stop()

    for f in figures:
        print(f"{f['figure']}: {f['value']} {f['unit']} (baseline {f['baseline']}: {f['baseline_value']}; ratio {f['ratio']}; "
              f"goal {f['goal']}; {f['note']})")
    if a.json:
        with open(a.json, "w") as out:
            json.dump({"figures": figures}, out, indent=2)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
