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

        ScrubInitialEnvironment(SecretVariables);
        foreach (var name in SecretVariables)
        {
            Environment.SetEnvironmentVariable(name, null);
            _ = unsetenv(name);
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
