using System.Globalization;
using System.Text;

namespace LogQuota.Runner.Tests.Isolation;

/// <summary>What the escape tests look at: /proc itself, never the runner's marker.</summary>
internal static class JobProcesses
{
    /// <summary>
    /// A helper the jobs run with /usr/bin/python3: double-forks into a new session, then escapes as asked —
    /// <c>zero-environ</c> overwrites its whole environment through /proc/self/mem (the marker with it),
    /// <c>nondumpable</c> makes itself non-dumpable (its environ unreadable to a non-root runner) — ignores SIGTERM,
    /// appends its pid to the pid file and sleeps.
    /// </summary>
    public const string EscapeScript = """
        import ctypes, os, signal, sys, time
        how, pids = sys.argv[1], sys.argv[2]
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                signal.signal(signal.SIGTERM, signal.SIG_IGN)
                if how == "zero-environ":
                    with open("/proc/self/stat") as f:
                        fields = f.read().rsplit(")", 1)[1].split()
                    start, end = int(fields[47]), int(fields[48])  # env_start, env_end: fields 50 and 51
                    with open("/proc/self/mem", "r+b", buffering=0) as mem:
                        mem.seek(start)
                        mem.write(b"\0" * (end - start))
                elif how == "nondumpable":
                    ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE, 0
                with open(pids, "a") as f:
                    f.write(os.readlink("/proc/self") + "\n")  # the pid outside any PID namespace (see HostPid)
                time.sleep(300)
            os._exit(0)
        os._exit(0)
        """;

    /// <summary>
    /// Appends the calling shell's pid as the runner sees it: the 4th field of /proc/self/stat is the parent's pid
    /// (of <c>cut</c>: the shell) in the PID namespace /proc was mounted for, the runner's, where <c>$$</c> would give
    /// the pid inside the job's own namespace.
    /// </summary>
    private const string HostPid = "cut -d' ' -f4 /proc/self/stat >> pids";

    /// <summary>
    /// The escapes of issue 14, each appending its pid to <c>pids</c> in the working directory: a plain background
    /// child, <c>setsid env -i bash</c> double fork renamed to <paramref name="tag"/> (no marker, reparented to init),
    /// the zeroed-environ and non-dumpable double forks above, and a child that ignores SIGTERM.
    /// </summary>
    public static string EscapesCommand(string work, string tag) => string.Join("\n",
        HostPid,
        $"sh -c \"{HostPid}; exec sleep 300\" &",
        $"setsid env -i /bin/bash -c '(cd \"$1\"; cut -d\" \" -f4 /proc/self/stat >> pids; exec -a \"$0\" sleep 300) &' {tag} {work}",
        "setsid /usr/bin/python3 escape.py zero-environ pids",
        "setsid /usr/bin/python3 escape.py nondumpable pids",
        $"(trap '' TERM HUP; {HostPid}; exec sleep 300) &",
        "while [ \"$(wc -l < pids)\" -lt 6 ]; do sleep 0.02; done",
        "echo ready");

    public const int EscapeCount = 6;

    public static List<int> ReadPids(string work) =>
        File.ReadAllLines(Path.Combine(work, "pids")).Where(l => l.Length > 0)
            .Select(l => int.Parse(l, CultureInfo.InvariantCulture)).ToList();

    /// <summary>Live (not zombie) processes among <paramref name="pids"/>.</summary>
    public static List<int> Alive(IEnumerable<int> pids) => pids.Where(IsAlive).ToList();

    public static bool IsAlive(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var state = stat[(stat.LastIndexOf(')') + 2)..][0];
            return state is not ('Z' or 'X');
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>Every live process whose command line holds <paramref name="text"/> or whose real uid is <paramref name="uid"/>.</summary>
    public static List<string> Scan(string text, uint? uid)
    {
        var found = new List<string>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            var name = Path.GetFileName(dir);
            if (!int.TryParse(name, CultureInfo.InvariantCulture, out var pid) || pid == Environment.ProcessId || !IsAlive(pid))
            {
                continue;
            }

            try
            {
                var cmdline = Encoding.UTF8.GetString(File.ReadAllBytes($"{dir}/cmdline")).Replace('\0', ' ');
                var status = File.ReadAllText($"{dir}/status");
                var uidLine = status.Split('\n').First(l => l.StartsWith("Uid:", StringComparison.Ordinal));
                var realUid = uint.Parse(uidLine.Split('\t')[1], CultureInfo.InvariantCulture);
                if (cmdline.Contains(text, StringComparison.Ordinal) || realUid == uid)
                {
                    found.Add($"{pid} (uid {realUid}): {cmdline}");
                }
            }
            catch (IOException)
            {
                // Exited meanwhile.
            }
        }

        return found;
    }
}
