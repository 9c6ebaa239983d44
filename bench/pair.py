"""One runner and one server as processes, from a checkout's Release builds: what bench/busy_job.py and
bench/idle_memory.py measure, started and stopped the same way (a context manager)."""
import contextlib, os, signal, subprocess, sys, tempfile

import load


@contextlib.contextmanager
def runner_and_server(root, label, runner_env=None, server_env=None):
    """Yields (runner process, server process, server base URL); stops both and removes their directory after."""
    dll = lambda project: os.path.join(root, f"src/{project}/bin/Release/net10.0/LogQuota.{project}.dll")
    for project in ("Server", "Runner"):
        if not os.path.exists(dll(project)):
            sys.exit(f"{dll(project)} is missing: dotnet build -c Release src/{project}")
    d = tempfile.mkdtemp(prefix=f"logquota-{label}-")
    os.chmod(d, 0o755)  # the jobs' directories lie below: a job's uid must be able to search its ancestors
    rport, sport = load.free_port(), load.free_port()
    quiet = {k: v for k, v in os.environ.items() if not k.startswith("DSTACK_")}
    quiet["Logging__LogLevel__Default"] = "Warning"
    log = open(os.path.join(d, "processes.log"), "w")
    procs = []
    try:
        procs.append(subprocess.Popen(["dotnet", dll("Runner")], stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env=dict(
            quiet, DSTACK_RUNNER_PORT=str(rport), DSTACK_RUNNER_DIR=os.path.join(d, "runner"),
            DSTACK_RUNNER_WORK_DIR=os.path.join(d, "work"), DSTACK_RUNNER_TOKEN=load.RUNNER_TOKEN, **(runner_env or {}))))
        load.wait_healthy(f"http://127.0.0.1:{rport}")
        procs.append(subprocess.Popen(["dotnet", dll("Server")], stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env=dict(
            quiet, DSTACK_SERVER_PORT=str(sport), DSTACK_SERVER_DIR=os.path.join(d, "server"), DSTACK_SERVER_ADMIN_TOKEN=load.ADMIN,
            DSTACK_SERVER_LOG_QUOTA_PER_JOB_HOUR="0", DSTACK_SERVER_RUNNERS=f"http://127.0.0.1:{rport}",
            DSTACK_RUNNER_TOKEN=load.RUNNER_TOKEN, **(server_env or {}))))
        base = f"http://127.0.0.1:{sport}"
        load.wait_healthy(base)
        yield procs[0], procs[1], base
    finally:
        stop_groups(procs)
        log.close()
        subprocess.run(["rm", "-rf", d], check=False)


def stop_groups(procs):
    """Stops processes started with start_new_session=True, with whatever they started (a runner's jobs): SIGTERM to
    each one's process group, SIGKILL to a group whose leader has not exited 60 s later."""
    for p in procs:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGTERM)
    for p in procs:
        try:
            p.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
