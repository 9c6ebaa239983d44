/*
 * logquota-jobexec: the first program of every job, between posix_spawn and the job's shell.
 *
 * Why a shim: posix_spawn (glibc 2.36, the runner's vfork+exec) can neither enter a cgroup, nor create
 * a PID namespace, nor change uid, and no managed code may run in a forked child of the .NET runtime
 * (another thread may hold a runtime or allocator lock at the fork). clone3(CLONE_INTO_CGROUP) from C#
 * would be such a fork. So the runner spawns this program, which does the few privileged steps with
 * plain system calls and then execs the job, in this order:
 *
 *   -o ADJ   write ADJ to /proc/self/oom_score_adj, first: the job and every process it starts are the OOM killer's
 *            first choice, before the server and the runner (which lower their own). Raising it needs no
 *            privilege; lowering it again needs CAP_SYS_RESOURCE, which a job under its own uid does not have.
 *   -g PATH  write "0" to PATH (the job's cgroup.procs): from here every process of the job, this one
 *            first, is in the job's cgroup. Nothing of the job has run yet: no window outside it.
 *   -m PATH  write "0" to PATH (the job's cgroup v1 memory group's cgroup.procs): the job's memory limit.
 *   -c PATH  write "0" to PATH (the job's cgroup v1 cpu group's cgroup.procs): the job's CPU limit (CFS quota).
 *   -p       new PID namespace (with a user namespace when not root); fork; the child is PID 1 of the
 *            namespace and becomes the job's shell, so its death kills every process of the job. The
 *            parent stays outside, ignores job-control signals and exits with the child's status.
 *   -n MAX   RLIMIT_NPROC = MAX, soft and hard, set before -u: the kernel counts it per real uid, and the uid
 *            is the job's alone, so it bounds the job's processes and threads like pids.max, where the
 *            pids controller is not offered (hybrid cgroup v1 hosts, PID namespace and process-scan modes).
 *            The job may lower it, never raise it. Only with -u: under a shared uid it would count the
 *            runner's own processes, and root ignores it.
 *   -G LIST  the supplementary groups (comma-separated gids) that -u sets instead of none: the groups of the
 *            DSTACK_RUNNER_JOB_USER account, as initgroups(3) would give them (the runner looked them up).
 *   -u UID[:GID]  set the groups (-G, else none), then gid = GID (default: UID), then uid = UID (root runner:
 *            per-job uids, or the job user).
 *            With -p, PR_SET_PDEATHSIG is set only after this step: the kernel clears it on every change of
 *            credentials, so set before, a runner's death would leave the namespace alive.
 *   -w DIR   after -u, as the job's user: create DIR (relative to the directory the runner started the shim in,
 *            with its missing parents, like mkdir -p) and enter it: a relative working_dir in the code directory.
 *            then: close every descriptor but 0-2 (and the status descriptor, close-on-exec), exec.
 *   -s       descriptor 3 is the status pipe: on failure the step and errno text are written to it and
 *            the shim exits 127; on success exec closes it, so the runner reads end-of-file.
 *
 * Failure modes: every step that fails stops the job before it runs (the runner reports the message
 * as executor_error); none is skipped silently.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static int status_fd = -1;

static void fail(const char *step)
{
    char message[512];
    int len = snprintf(message, sizeof message, "%s: %s", step, strerror(errno));
    if (status_fd >= 0 && len > 0) {
        ssize_t ignored = write(status_fd, message, (size_t)len);
        (void)ignored;
    } else if (len > 0) {
        ssize_t ignored = write(2, message, (size_t)len);
        (void)ignored;
    }
    _exit(127);
}

static void write_file(const char *path, const char *text, const char *step)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        fail(step);
    size_t len = strlen(text);
    if (write(fd, text, len) != (ssize_t)len)
        fail(step);
    close(fd);
}

/* Maps the runner's own uid and gid to themselves, the only mapping an unprivileged process may write. */
static void map_self(uid_t uid, gid_t gid)
{
    char line[64];
    write_file("/proc/self/setgroups", "deny", "cannot deny setgroups in the user namespace");
    snprintf(line, sizeof line, "%u %u 1", (unsigned)gid, (unsigned)gid);
    write_file("/proc/self/gid_map", line, "cannot map the gid in the user namespace");
    snprintf(line, sizeof line, "%u %u 1", (unsigned)uid, (unsigned)uid);
    write_file("/proc/self/uid_map", line, "cannot map the uid in the user namespace");
}

/* The namespace's outside parent: waits for PID 1 and ends as it ended. */
static void wait_and_mirror(pid_t child)
{
    static const int ignored[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGTSTP, SIGTTIN, SIGTTOU, SIGUSR1, SIGUSR2, SIGPIPE };
    for (size_t i = 0; i < sizeof ignored / sizeof ignored[0]; i++)
        signal(ignored[i], SIG_IGN);
    /* Hold no descriptor of the job's: the runner's end of the terminal or pipe must see the job's end. */
    syscall(SYS_close_range, 0U, ~0U, 0U);
    int status;
    while (waitpid(child, &status, 0) < 0) {
        if (errno != EINTR)
            _exit(127);
    }
    if (WIFSIGNALED(status)) {
        signal(WTERMSIG(status), SIG_DFL);
        kill(getpid(), WTERMSIG(status));
    }
    _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 127);
}

/* "UID" or "UID:GID"; the gid defaults to the uid (per-job uids have a group of the same number). */
static void parse_ids(const char *text, long *uid, long *gid)
{
    char *end;
    *uid = strtol(text, &end, 10);
    *gid = *uid;
    if (*end == ':')
        *gid = strtol(end + 1, &end, 10);
    if (*end != '\0' || *uid < 0 || *gid < 0) {
        errno = EINVAL;
        fail("bad -u UID[:GID]");
    }
}

/* A comma-separated list of gids into groups; returns how many. */
static size_t parse_groups(char *text, gid_t *groups, size_t max)
{
    size_t count = 0;
    for (char *part = strtok(text, ","); part != NULL; part = strtok(NULL, ",")) {
        char *end;
        long gid = strtol(part, &end, 10);
        if (*end != '\0' || gid < 0 || count == max) {
            errno = EINVAL;
            fail("bad -G LIST");
        }
        groups[count++] = (gid_t)gid;
    }
    return count;
}

/* mkdir -p of a relative path, then chdir into it, as whoever runs this. */
static void make_and_enter(char *dir)
{
    for (char *slash = strchr(dir, '/'); slash != NULL; slash = strchr(slash + 1, '/')) {
        *slash = '\0';
        if (dir[0] != '\0' && mkdir(dir, 0777) != 0 && errno != EEXIST)
            fail("cannot create the working directory");
        *slash = '/';
    }
    if (mkdir(dir, 0777) != 0 && errno != EEXIST)
        fail("cannot create the working directory");
    if (chdir(dir) != 0)
        fail("cannot enter the working directory");
}

int main(int argc, char **argv)
{
    const char *cgroup_procs = NULL;
    const char *memory_procs = NULL;
    const char *cpu_procs = NULL;
    const char *oom_score_adj = NULL;
    char *working_dir = NULL;
    long uid = -1;
    long gid = -1;
    static gid_t groups[NGROUPS_MAX];
    size_t group_count = 0;
    long process_limit = -1;
    int pid_namespace = 0;
    int opt;
    while ((opt = getopt(argc, argv, "+c:g:m:n:o:u:G:w:ps")) != -1) {
        switch (opt) {
        case 'g': cgroup_procs = optarg; break;
        case 'o': oom_score_adj = optarg; break;
        case 'm': memory_procs = optarg; break;
        case 'c': cpu_procs = optarg; break;
        case 'n': process_limit = strtol(optarg, NULL, 10); break;
        case 'u': parse_ids(optarg, &uid, &gid); break;
        case 'G': group_count = parse_groups(optarg, groups, NGROUPS_MAX); break;
        case 'w': working_dir = optarg; break;
        case 'p': pid_namespace = 1; break;
        case 's':
            status_fd = 3;
            if (fcntl(status_fd, F_SETFD, FD_CLOEXEC) != 0)
                fail("bad status descriptor");
            break;
        default: errno = EINVAL; fail("usage: logquota-jobexec [-s] [-o OOM_SCORE_ADJ] [-g CGROUP_PROCS] [-m MEMORY_PROCS] [-c CPU_PROCS] [-p] [-n MAX] [-G GIDS] [-u UID[:GID]] [-w DIR] PROGRAM ARGS...");
        }
    }
    if (optind >= argc) {
        errno = EINVAL;
        fail("no program to run");
    }

    if (oom_score_adj != NULL)
        write_file("/proc/self/oom_score_adj", oom_score_adj, "cannot raise the job's oom_score_adj");

    if (cgroup_procs != NULL)
        write_file(cgroup_procs, "0", "cannot enter the job's cgroup");

    if (memory_procs != NULL)
        write_file(memory_procs, "0", "cannot enter the job's memory group");

    if (cpu_procs != NULL)
        write_file(cpu_procs, "0", "cannot enter the job's cpu group");

    if (pid_namespace) {
        uid_t outer_uid = geteuid();
        gid_t outer_gid = getegid();
        int flags = CLONE_NEWPID | (outer_uid == 0 ? 0 : CLONE_NEWUSER);
        if (unshare(flags) != 0)
            fail("cannot create a PID namespace");
        if (outer_uid != 0)
            map_self(outer_uid, outer_gid);
        pid_t child = fork();
        if (child < 0)
            fail("cannot fork the namespace's first process");
        if (child > 0)
            wait_and_mirror(child);
    }

    if (process_limit > 0) {
        struct rlimit limit = { (rlim_t)process_limit, (rlim_t)process_limit };
        if (setrlimit(RLIMIT_NPROC, &limit) != 0)
            fail("cannot set the job's process limit");
    }

    if (uid >= 0) {
        if (setgroups(group_count, group_count == 0 ? NULL : groups) != 0)
            fail("cannot set the job's supplementary groups");
        if (setresgid((gid_t)gid, (gid_t)gid, (gid_t)gid) != 0)
            fail("cannot change to the job's gid");
        if (setresuid((uid_t)uid, (uid_t)uid, (uid_t)uid) != 0)
            fail("cannot change to the job's uid");
    }

    if (pid_namespace) {
        /* Should the outside parent die first (the runner killed it), so does the namespace. Set after the last
         * credential change, which would clear it. getppid() is 0 here (the parent is outside the namespace), so a
         * parent that died before this line is not seen; the runner's kill then falls back to the process scan,
         * and a restarted runner to its sweep by uid and cgroup. */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0)
            fail("cannot tie the namespace to its parent");
    }

    if (working_dir != NULL)
        make_and_enter(working_dir);

    /* A job inherits its terminal or pipe and nothing else of the runner's. */
    syscall(SYS_close_range, status_fd >= 0 ? 4U : 3U, ~0U, 0U);
    execve(argv[optind], &argv[optind], environ);
    fail("cannot start the job's shell");
    return 127;
}
