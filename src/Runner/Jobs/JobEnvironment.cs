using System.Collections;
using System.Globalization;
using LogQuota.Runner.Isolation;

namespace LogQuota.Runner.Jobs;

/// <summary>
/// A job's environment (SPEC §7), reset as sudo's env_reset and systemd do: of the service's own environment only
/// <c>PATH</c>, <c>LANG</c>, <c>LC_*</c>, <c>TZ</c>, <c>TERM</c> (without a terminal) and the names of
/// <c>DSTACK_RUNNER_JOB_ENV_PASS</c>; then <c>HOME</c>, <c>USER</c>, <c>LOGNAME</c> and <c>SHELL</c> of the job's
/// user, the run's own <c>env</c>, and the runner's <c>DSTACK_RUN_NAME</c> and <c>DSTACK_JOB_ID</c>. Whatever else the
/// service was started with (<c>PGPASSWORD</c>, <c>AWS_SECRET_ACCESS_KEY</c>, <c>ConnectionStrings__*</c>) never
/// reaches a job. The service's part is taken once, when the runner starts.
/// </summary>
internal sealed class JobEnvironment
{
    /// <summary>A PATH for a service started without one (as by some init systems): the usual directories.</summary>
    public const string DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    /// <summary>What a job's terminal understands: the runner's screen emulates xterm's sequences.</summary>
    private const string TerminalType = "xterm-256color";

    private readonly Dictionary<string, string> _inherited;
    private readonly string? _serviceTerm;
    private readonly (string Name, string Shell) _runnerUser;

    /// <param name="service">The service's environment (the runner's, or the server's for its local runner).</param>
    /// <param name="pass">Names passed on purpose (<c>DSTACK_RUNNER_JOB_ENV_PASS</c>).</param>
    public JobEnvironment(IDictionary service, IReadOnlyList<string> pass)
    {
        ArgumentNullException.ThrowIfNull(service);
        ArgumentNullException.ThrowIfNull(pass);
        _inherited = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (DictionaryEntry entry in service)
        {
            if (entry is { Key: string name, Value: string value } && (IsAlwaysInherited(name) || pass.Contains(name, StringComparer.Ordinal)))
            {
                _inherited[name] = value;
            }
        }

        _inherited.TryAdd("PATH", DefaultPath);
        _serviceTerm = service["TERM"] as string;
        var uid = Execution.Native.geteuid();
        var runner = UserAccount.OfUid(uid);
        _runnerUser = (runner?.Name ?? SyntheticName(uid), runner?.Shell ?? UserAccount.DefaultShell);
    }

    /// <summary>
    /// The name a per-job uid goes by in USER and LOGNAME: it has no passwd entry, and tools that name per-user files
    /// after <c>getpass.getuser()</c> (torch's <c>/tmp/torchinductor_$USER</c>, for one) need a name that differs
    /// between uids, or one job finds the path taken by another uid's directory.
    /// </summary>
    public static string SyntheticName(uint uid) => string.Create(CultureInfo.InvariantCulture, $"logquota-{uid}");

    /// <summary>The complete environment of one job.</summary>
    /// <param name="sandbox">Whose uid the job runs under (the job user's, its own, or the runner's).</param>
    /// <param name="home">The job's HOME.</param>
    /// <param name="own">The run's own <c>env</c>: it may override everything but HOME and the runner's two.</param>
    public Dictionary<string, string> For(JobSandbox sandbox, string home, bool tty, IReadOnlyDictionary<string, string>? own, string runName, Guid jobId)
    {
        ArgumentNullException.ThrowIfNull(sandbox);
        var env = new Dictionary<string, string>(_inherited, StringComparer.Ordinal);
        if (tty)
        {
            env["TERM"] = TerminalType;
        }
        else if (_serviceTerm is not null)
        {
            env["TERM"] = _serviceTerm;
        }

        var (name, shell) = sandbox switch
        {
            { User: { } user } => (user.Name, user.Shell),
            { Uid: { } uid } => (SyntheticName(uid), UserAccount.DefaultShell),
            _ => _runnerUser,
        };
        env["USER"] = name;
        env["LOGNAME"] = name;
        env["SHELL"] = shell;
        foreach (var (key, value) in own ?? new Dictionary<string, string>())
        {
            env[key] = value;
        }

        env["HOME"] = home;
        env["DSTACK_RUN_NAME"] = runName;
        env["DSTACK_JOB_ID"] = jobId.ToString();
        return env;
    }

    private static bool IsAlwaysInherited(string name) =>
        name is "PATH" or "LANG" or "TZ" || name.StartsWith("LC_", StringComparison.Ordinal);
}
