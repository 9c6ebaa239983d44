#!/usr/bin/env python3
"""Log followers of one busy run: server CPU with 100 followers against 1 (GET /api/runs/{name}/logs?follow=true).

Usage: python3 bench/followers.py [--quick] [--json PATH]   (after `dotnet build -c Release src/Server`). One server
process (the Release build, with its local runner in the same process) runs one job printing a line every 10 ms. In
turn, for the same number of seconds each: 1 follower with follow=true, 100 followers with follow=true, as the
baseline 100 followers that poll every 0.5 s without follow (what `logquota logs -f` did before), then 1 and 100
followers on event streams (follow=true with Accept: text/event-stream: one request each, a frame per commit). Each follower asks for
the events after the last one it got, over a kept-alive connection, in a thread of this script. The figure is the
server process's own CPU seconds (utime + stime from /proc) in each phase; the ratio of 100 followers to 1 is the goal
("about as much"), the polling baseline shows what the old client cost. The runner's CPU for the job's output is in
the same process and the same in every phase. Writes {"figures": [...]} to PATH in the shared result format (bench/run).
"""
import argparse, http.client, json, os, subprocess, sys, tempfile, threading, time, urllib.parse

import pair

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DLL = os.path.join(ROOT, "src/Server/bin/Release/net10.0/LogQuota.Server.dll")
TOKEN = "bench-admin-token-0123456789"
HEADERS = {"Authorization": f"Bearer {TOKEN}"}


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def request(conn, method, path, body=None):
    headers = dict(HEADERS, **({"Content-Type": "application/json"} if body is not None else {}))
    conn.request(method, path, body=None if body is None else json.dumps(body), headers=headers)
    response = conn.getresponse()
    return response.status, response.read()


def follower(port, stop, follow, counts, index):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    last = None
    while not stop.is_set():
        query = {"source": "job"}
        if follow:
            query.update(follow="true", wait="5")
        if last:
            query["start_time"] = last
        status, body = request(conn, "GET", "/api/runs/busy/logs?" + urllib.parse.urlencode(query))
        if status != 200:
            sys.exit(f"follower {index}: {status} {body[:200]!r}")
        logs = json.loads(body)["logs"]
        if logs:
            last = logs[-1]["timestamp"]
            counts[index] += len(logs)
        if not follow:
            stop.wait(0.5)
    conn.close()


def streamer(port, stop, counts, index):
    """One follower on an event stream (Accept: text/event-stream): one request, a frame per commit."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    conn.request("GET", "/api/runs/busy/logs?follow=true&source=job", headers=dict(HEADERS, Accept="text/event-stream"))
    response = conn.getresponse()
    if response.status != 200:
        sys.exit(f"streamer {index}: {response.status} {response.read()[:200]!r}")
    while not stop.is_set():
        line = response.readline()
        if not line:
            break
        if line.startswith(b"data: {\"logs\""):
            counts[index] += len(json.loads(line[6:])["logs"])
    conn.close()


def phase(port, pid, followers, follow, seconds):
    stop, counts = threading.Event(), [0] * followers
    target = (lambda p, s, c, i: streamer(p, s, c, i)) if follow == "stream" else (lambda p, s, c, i: follower(p, s, follow, c, i))
    threads = [threading.Thread(target=target, args=(port, stop, counts, i), daemon=True) for i in range(followers)]
    for t in threads:
        t.start()
    time.sleep(2)  # every follower has caught up with the log stored so far
    before, start = cpu_seconds(pid), time.monotonic()
    time.sleep(seconds)
    used, elapsed = cpu_seconds(pid) - before, time.monotonic() - start
    stop.set()
    for t in threads:
        t.join(30)
    return used / elapsed, min(counts)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--json")
    args = parser.parse_args()
    seconds = 10 if args.quick else 30
    if not os.path.exists(DLL):
        sys.exit(f"{DLL} is missing: dotnet build -c Release src/Server")

    with tempfile.TemporaryDirectory(prefix="logquota-followers-") as tmp:
        # Jobs run under uids of their own (a root server): their work directory must be reachable through this one.
        os.chmod(tmp, 0o711)
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("DSTACK_")}
        env.update(DSTACK_SERVER_DIR=os.path.join(tmp, "server"), DSTACK_SERVER_PORT=str(port), DSTACK_SERVER_ADMIN_TOKEN=TOKEN,
                   DSTACK_RUNNER_WORK_DIR=os.path.join(tmp, "work"), DSTACK_SERVER_POLL_INTERVAL="0.2", Logging__LogLevel__Default="Warning")
        log = open(os.path.join(tmp, "server.log"), "w")
        server = subprocess.Popen(["dotnet", DLL], env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            deadline = time.monotonic() + 300  # a start-up on a machine far busier than its cores can take minutes
            while True:
                try:
                    if request(conn, "GET", "/api/healthcheck")[0] == 200:
                        break
                except OSError:
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                if server.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    sys.exit("the server did not start:\n" + open(log.name).read()[-2000:])
                time.sleep(0.2)
            lines = 100 * (3 * seconds + 60)
            status, body = request(conn, "POST", "/api/runs", {"run_name": "busy", "commands": [f"for i in $(seq 1 {lines}); do echo line-$i; sleep 0.01; done"]})
            if status != 201:
                sys.exit(f"submit: {status} {body[:300]!r}")
            time.sleep(3)

            one, one_lines = phase(port, server.pid, 1, True, seconds)
            hundred, hundred_lines = phase(port, server.pid, 100, True, seconds)
            polling, polling_lines = phase(port, server.pid, 100, False, seconds)
            one_stream, one_stream_lines = phase(port, server.pid, 1, "stream", seconds)
            hundred_streams, hundred_streams_lines = phase(port, server.pid, 100, "stream", seconds)
        finally:
            pair.stop_groups([server])
            log.close()

    def figure(id_, name, value, baseline, goal=None, met=None, baseline_name="1 follower (follow=true)"):
        # The schema every sub-benchmark of bench/run writes.
        return {"id": id_, "figure": name, "value": round(value, 3), "unit": "core",
                "baseline": None if baseline is None else baseline_name,
                "baseline_value": None if baseline is None else round(baseline, 3),
                "ratio": None if baseline is None else round(value / baseline, 2), "goal": goal, "met": met,
                "note": f"1-min load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores when measured"}

    figures = [
        figure("followers_1", "server CPU, 1 follower (follow=true)", one, None),
        figure("followers_100", "server CPU, 100 followers (follow=true)", hundred, one, "<= 2x 1 follower", hundred / one <= 2),
        figure("pollers_100", "server CPU, 100 followers polling every 0.5 s (before follow=true)", polling, one),
        figure("streams_1", "server CPU, 1 follower on an event stream", one_stream, None),
        figure("streams_100", "server CPU, 100 followers on event streams", hundred_streams, one_stream, "<= 2x 1 stream",
               hundred_streams / one_stream <= 2, "1 follower on an event stream"),
    ]
    for f in figures:
        print(f"{f['figure']}: {f['value']} core (ratio {f['ratio']})")
    print(f"lines each follower got at least: 1 follower {one_lines}, 100 followers {hundred_lines}, 100 pollers {polling_lines}, "
          f"1 stream {one_stream_lines}, 100 streams {hundred_streams_lines}")
    if args.json:
        with open(args.json, "w") as out:
            json.dump({"figures": figures}, out)


if __name__ == "__main__":
    main()
