using System.Runtime.InteropServices;
using System.Text;

namespace LogQuota.Shared.Hosting;

/// <summary>
/// What a service does once it has read its settings, so that the jobs it runs cannot take its secrets (SPEC §7):
/// the secrets leave its environment — the variables are removed, and their text in the initial environment block,
/// which is what <c>/proc/PID/environ</c> shows for as long as the process lives, is overwritten — and a service
/// that is not root makes itself non-dumpable, which puts its <c>/proc/PID/{environ,mem,fd}</c> out of reach of
/// other processes of its uid (its jobs, when it runs them under its own uid) and forbids them to ptrace it.
/// </summary>
public static unsafe partial class ProcessHardening
{
    private const int PR_SET_DUMPABLE = 4;

    /// <summary>The secrets a LogQuota service may be given in its environment.</summary>
    public static readonly string[] SecretVariables =
    [
        "DSTACK_RUNNER_TOKEN", "DSTACK_RUNNER_METRICS_TOKEN", "DSTACK_SERVER_ADMIN_TOKEN", "DSTACK_SERVER_METRICS_TOKEN",
        "DSTACK_DATABASE_URL",
    ];

    /// <summary>
    /// The <c>oom_score_adj</c> a root service gives itself (SPEC §7): the kernel's OOM killer then takes a job (which
    /// starts at +800) long before the server or the runner, whose death would end every job. Not -1000 (never
    /// killed): a service that leaks must still be stoppable by the kernel rather than hang the machine.
    /// </summary>
    public const int ServiceOomScoreAdj = -900;

    /// <summary>What <see cref="Apply"/> did to the OOM killer's choice, in words for the start-up log.</summary>
    public static string OomScoreNote { get; private set; } = "oom_score_adj unchanged";

    /// <summary>Whether <see cref="Apply"/> made the process non-dumpable (it does so only when not root).</summary>
    public static bool NonDumpable { get; private set; }

    /// <summary>Removes <see cref="SecretVariables"/> from the environment and, when not root, makes the process non-dumpable.</summary>
    public static void Apply()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        if (geteuid() != 0)
        {
            NonDumpable = prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == 0;
        }

        OomScoreNote = LowerOomScore();

        ScrubInitialEnvironment(SecretVariables);
        foreach (var name in SecretVariables)
        {
            Environment.SetEnvironmentVariable(name, null);
            _ = unsetenv(name);
        }
    }

    /// <summary>
    /// Lowers this process's <c>oom_score_adj</c> to <see cref="ServiceOomScoreAdj"/>. Lowering needs CAP_SYS_RESOURCE:
    /// a non-root service, or root in a container or sandbox that drops it, keeps what it has; jobs still start at
    /// +800, so the kernel still takes a job first, only with less margin.
    /// </summary>
    private static string LowerOomScore()
    {
        const string path = "/proc/self/oom_score_adj";
        try
        {
            File.WriteAllText(path, ServiceOomScoreAdj.ToString(System.Globalization.CultureInfo.InvariantCulture));
            return $"oom_score_adj {ServiceOomScoreAdj} (jobs start at +800: the OOM killer takes a job first)";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            string current;
            try
            {
                current = File.ReadAllText(path).Trim();
            }
            catch (IOException)
            {
                current = "?";
            }

            return $"oom_score_adj kept at {current}: lowering it needs CAP_SYS_RESOURCE, which this process lacks (jobs start at +800, so the OOM killer still takes a job first)";
        }
    }

    /// <summary>
    /// Overwrites <c>NAME=value</c> of each name with NULs in the block between env_start and env_end (fields 50 and 51
    /// of /proc/self/stat). That block is the kernel's record of the process's environment; removing a variable leaves it.
    /// </summary>
    private static void ScrubInitialEnvironment(string[] names)
    {
        string stat;
        try
        {
            stat = File.ReadAllText("/proc/self/stat");
        }
        catch (IOException)
        {
            return;
        }

        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        if (fields.Length < 49 || !ulong.TryParse(fields[47], out var start) || !ulong.TryParse(fields[48], out var end) || end <= start)
        {
            return;
        }

        var block = new Span<byte>((void*)(nint)start, (int)(end - start));
        var needles = names.Select(n => Encoding.ASCII.GetBytes(n + "=")).ToArray();
        var entryStart = 0;
        for (var i = 0; i <= block.Length; i++)
        {
            if (i < block.Length && block[i] != 0)
            {
                continue;
            }

            var entry = block[entryStart..i];
            foreach (var needle in needles)
            {
                if (entry.StartsWith(needle))
                {
                    entry.Clear();
                    break;
                }
            }

            entryStart = i + 1;
        }
    }

    [LibraryImport("libc")]
    private static partial uint geteuid();

    [LibraryImport("libc")]
    private static partial int prctl(int option, nuint arg2, nuint arg3, nuint arg4, nuint arg5);

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int unsetenv(string name);
}
