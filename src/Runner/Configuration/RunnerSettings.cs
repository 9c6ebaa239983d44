using System.Collections;
using System.Globalization;
using System.Net;
using LogQuota.Shared.Contracts;

namespace LogQuota.Runner.Configuration;

/// <summary>The runner's settings (SPEC §3), read from <c>DSTACK_RUNNER_*</c> environment variables.</summary>
public sealed record RunnerSettings
{
    /// <summary>Address to listen on (<c>DSTACK_RUNNER_HOST</c>).</summary>
    public string Host { get; init; } = "127.0.0.1";

    /// <summary>Port to listen on (<c>DSTACK_RUNNER_PORT</c>); 0 picks a free port.</summary>
    public int Port { get; init; } = 10999;

    /// <summary>Directory for spools and job working directories (<c>DSTACK_RUNNER_DIR</c>).</summary>
    public string Dir { get; init; } = DefaultDir;

    /// <summary>Bearer token required on every call but the health check (<c>DSTACK_RUNNER_TOKEN</c>).</summary>
    public string? Token { get; init; }

    /// <summary>
    /// The uids a root runner runs jobs under, one per job (<c>DSTACK_RUNNER_JOB_UIDS</c>, <c>FIRST-LAST</c>). Runners
    /// that share a host need disjoint ranges: a uid is unique among one runner's jobs only.
    /// </summary>
    public UidRange JobUids { get; init; } = UidRange.Default;

    /// <summary>Bearer token <c>GET /metrics</c> asks for instead of <see cref="Token"/> (<c>DSTACK_RUNNER_METRICS_TOKEN</c>).</summary>
    public string? MetricsToken { get; init; }

    /// <summary>False: no <c>/metrics</c> and no instrument listened to (<c>DSTACK_RUNNER_METRICS=off</c>).</summary>
    public bool MetricsEnabled { get; init; } = true;

    /// <summary>
    /// The meter factory of a server that hosts this runner in its process: the runner's instruments are then exported by
    /// the server's <c>/metrics</c>, and the runner maps none of its own. Not an environment setting.
    /// </summary>
    public System.Diagnostics.Metrics.IMeterFactory? EmbeddingMeters { get; init; }

    /// <summary>
    /// Bytes of memory each job may use (<c>DSTACK_RUNNER_JOB_MEMORY_MAX</c>, e.g. <c>8GiB</c>); null sets no limit.
    /// Enforced where a memory controller can be used (the health check's <c>isolation.memory_max</c> says so).
    /// </summary>
    public long? JobMemoryMax { get; init; }

    /// <summary>
    /// Bytes of files each job may keep in its directory under <see cref="WorkDir"/>, its home, code and working
    /// directory there (<c>DSTACK_RUNNER_JOB_DISK_MAX</c>, e.g. <c>10GiB</c>); null sets no limit. Measured every
    /// <see cref="Isolation.JobDiskUsage.Period"/>; a job over it is killed (<c>disk_quota_exceeded</c>).
    /// </summary>
    public long? JobDiskMax { get; init; }

    /// <summary>
    /// The most jobs this runner takes at once (<c>DSTACK_RUNNER_MAX_JOBS</c>); null: <see cref="DefaultMaxJobs"/> of this
    /// machine. A server never gives it more; past every runner's capacity, jobs wait <c>submitted</c>.
    /// </summary>
    public int? MaxJobs { get; init; }

    /// <summary>
    /// The default capacity: 256 jobs per core, at most one per 8 MiB of the memory the runner may use (its cgroup's
    /// limit in a container), at least 1. A light job (a shell printing a line a second) costs about 1% of a core and
    /// 4 to 8 MiB resident with its terminal and spool; a heavy one should be bounded with the setting.
    /// </summary>
    public static int DefaultMaxJobs()
    {
        var byMemory = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (8L << 20);
        return (int)Math.Max(1, Math.Min(256L * Environment.ProcessorCount, byMemory));
    }

    /// <summary>The capacity in force: <see cref="MaxJobs"/> or, unset, <see cref="DefaultMaxJobs"/>.</summary>
    public int EffectiveMaxJobs => MaxJobs ?? DefaultMaxJobs();

    /// <summary>Most processes one job may have at once under cgroups (<c>DSTACK_RUNNER_JOB_PIDS_MAX</c>): bounds a fork bomb.</summary>
    public int JobPidsMax { get; init; } = 4096;

    /// <summary>
    /// Most bytes of file contents one job's code archive may unpack to (<c>DSTACK_RUNNER_CODE_MAX_UNPACKED</c>, default
    /// 1 GiB). Also the largest archive <c>PUT /api/code/{sha256}</c> takes, which bounds the disk one upload fills: a
    /// larger archive could hardly unpack within the limit, since gzip grows only incompressible data, by well under 1%.
    /// </summary>
    public long CodeMaxUnpacked { get; init; } = DefaultCodeMaxUnpacked;

    /// <summary>1 GiB.</summary>
    public const long DefaultCodeMaxUnpacked = 1L << 30;

    /// <summary>
    /// Where each job's directory (its home and code) is made (<c>DSTACK_RUNNER_WORK_DIR</c>); null: the default of
    /// <see cref="Jobs.JobDirectories"/>, which depends on whether jobs run under other uids than the runner's.
    /// </summary>
    public string? WorkDir { get; init; }

    /// <summary>The existing user a root runner runs every job as (<c>DSTACK_RUNNER_JOB_USER</c>); null: a uid per job.</summary>
    public string? JobUser { get; init; }

    /// <summary>
    /// Variables of the runner's own environment passed to every job on purpose (<c>DSTACK_RUNNER_JOB_ENV_PASS</c>,
    /// comma-separated names), beyond the few every job gets (<see cref="Jobs.JobEnvironment"/>).
    /// </summary>
    public IReadOnlyList<string> JobEnvPass { get; init; } = [];

    /// <summary>Where jobs run (<c>DSTACK_RUNNER_EXECUTOR</c>): on this host (<c>local</c>, the default) or through Slurm (<c>slurm</c>).</summary>
    public RunnerExecutor Executor { get; init; } = RunnerExecutor.Local;

    /// <summary>Site options added to every Slurm allocation (<c>DSTACK_RUNNER_SLURM_ARGS</c>, split on whitespace: account, QOS, partition...).</summary>
    public IReadOnlyList<string> SlurmArgs { get; init; } = [];

    /// <summary>The Slurm partitions a run may name in its <c>resources.partition</c> (<c>DSTACK_RUNNER_SLURM_PARTITIONS</c>, comma-separated); empty: none.</summary>
    public IReadOnlyList<string> SlurmPartitions { get; init; } = [];

    /// <summary>
    /// The strongest kill mechanism the start-up probe may choose; null lets it choose the strongest that works. Not an
    /// environment setting: for tests and benchmarks that compare the modes on one machine.
    /// </summary>
    public LogQuota.Shared.Contracts.IsolationKill? KillModeLimit { get; init; }

    /// <summary>False keeps a root runner's jobs under its own uid. Not an environment setting: for tests and benchmarks.</summary>
    public bool PerJobUidsAllowed { get; init; } = true;

    /// <summary>
    /// How long a stopping runner, once its jobs have ended, keeps answering pulls so the server can store every
    /// job's final state and release it; it exits as soon as no job is left, at the latest after this period.
    /// Ten server polls at the default 1 s interval, each retried by the server's resilience pipeline. Not an
    /// environment setting: a server that hosts the runner itself sets it to zero, since it collects the ends itself.
    /// </summary>
    public TimeSpan DrainPeriod { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary><c>~/.logquota/runner</c>.</summary>
    public static string DefaultDir =>
        Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".logquota", "runner");

    /// <summary>Reads the settings from <paramref name="environment"/>; throws <see cref="SettingsException"/> naming a bad variable.</summary>
    public static RunnerSettings FromEnvironment(IDictionary environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        string? Get(string name) => environment[name] as string is { Length: > 0 } value ? value : null;

        var settings = new RunnerSettings
        {
            Host = Get("DSTACK_RUNNER_HOST") ?? "127.0.0.1",
            Port = Get("DSTACK_RUNNER_PORT") is { } port ? ParsePort(port) : 10999,
            Dir = Get("DSTACK_RUNNER_DIR") ?? DefaultDir,
            Token = Get("DSTACK_RUNNER_TOKEN"),
            MetricsToken = Get("DSTACK_RUNNER_METRICS_TOKEN"),
            MetricsEnabled = Get("DSTACK_RUNNER_METRICS") is not { } metrics || ParseOnOff("DSTACK_RUNNER_METRICS", metrics),
            Executor = Get("DSTACK_RUNNER_EXECUTOR") is { } executor ? ParseExecutor(executor) : RunnerExecutor.Local,
            SlurmArgs = Get("DSTACK_RUNNER_SLURM_ARGS") is { } slurmArgs ? ParseSlurmArgs(slurmArgs) : [],
            SlurmPartitions = Get("DSTACK_RUNNER_SLURM_PARTITIONS") is { } partitions ? ParsePartitions(partitions) : [],
        }.WithJobSettings(Get);
        settings.Validate();
        return settings;
    }

    /// <summary>
    /// A copy with the settings of the jobs read by <paramref name="get"/> (null or empty: unset): the ones a server's
    /// local runner also takes from the server's environment, so one host's runners can be given disjoint uid ranges.
    /// Throws <see cref="SettingsException"/> naming a bad variable.
    /// </summary>
    public RunnerSettings WithJobSettings(Func<string, string?> get)
    {
        ArgumentNullException.ThrowIfNull(get);
        string? Get(string name) => get(name) is { Length: > 0 } value ? value : null;
        return this with
        {
            JobUids = Get("DSTACK_RUNNER_JOB_UIDS") is { } uids ? UidRange.Parse(uids) : UidRange.Default,
            JobPidsMax = Get("DSTACK_RUNNER_JOB_PIDS_MAX") is { } pids ? ParsePidsMax(pids) : 4096,
            WorkDir = Get("DSTACK_RUNNER_WORK_DIR") is { } work ? ParseWorkDir(work) : null,
            JobUser = Get("DSTACK_RUNNER_JOB_USER") is { } user ? ParseUserName(user) : null,
            JobEnvPass = Get("DSTACK_RUNNER_JOB_ENV_PASS") is { } pass ? ParseEnvPass(pass) : [],
            CodeMaxUnpacked = Get("DSTACK_RUNNER_CODE_MAX_UNPACKED") is { } unpacked ? ParseCodeMaxUnpacked(unpacked) : DefaultCodeMaxUnpacked,
            JobMemoryMax = Get("DSTACK_RUNNER_JOB_MEMORY_MAX") is { } memory ? ParseMemoryMax(memory) : null,
            JobDiskMax = Get("DSTACK_RUNNER_JOB_DISK_MAX") is { } disk ? ParseDiskMax(disk) : null,
            MaxJobs = Get("DSTACK_RUNNER_MAX_JOBS") is { } maxJobs ? ParseMaxJobs(maxJobs) : null,
        };
    }

    /// <summary>Names the directories, never the tokens: a record would print every property.</summary>
    public override string ToString() => $"RunnerSettings {{ Host = {Host}, Port = {Port}, Dir = {Dir}, WorkDir = {WorkDir} }}";

    /// <summary>Checks every setting; throws <see cref="SettingsException"/> naming the first bad one.</summary>
    public void Validate()
    {
        if (Host != "localhost" && !IPAddress.TryParse(Host, out _))
        {
            throw new SettingsException($"DSTACK_RUNNER_HOST must be an IP address or localhost, got '{Host}'");
        }

        if (Port is < 0 or > 65535)
        {
            throw new SettingsException($"DSTACK_RUNNER_PORT must be a port number from 0 to 65535, got '{Port}'");
        }

        if (!Path.IsPathFullyQualified(Dir))
        {
            throw new SettingsException($"DSTACK_RUNNER_DIR must be an absolute path, got '{Dir}'");
        }

        if (WorkDir is not null && !Path.IsPathFullyQualified(WorkDir))
        {
            throw new SettingsException($"DSTACK_RUNNER_WORK_DIR must be an absolute path, got '{WorkDir}'");
        }

        if (Token is not null && (Token.Length < 16 || Token.Any(char.IsWhiteSpace)))
        {
            throw new SettingsException("DSTACK_RUNNER_TOKEN must be at least 16 characters without whitespace");
        }

        if (MetricsToken is not null && (MetricsToken.Length < 16 || MetricsToken.Any(char.IsWhiteSpace)))
        {
            throw new SettingsException("DSTACK_RUNNER_METRICS_TOKEN must be at least 16 characters without whitespace");
        }

        if (CodeMaxUnpacked < 1)
        {
            throw new SettingsException($"DSTACK_RUNNER_CODE_MAX_UNPACKED must be a size above 0 such as 1GiB or 512MiB, got '{CodeMaxUnpacked}'");
        }

        if (Token is null && !IsLoopback(Host))
        {
            throw new SettingsException(
                $"DSTACK_RUNNER_TOKEN is required when DSTACK_RUNNER_HOST is not a loopback address (got '{Host}')");
        }
    }

    /// <summary>At least 4 MiB: a shell and its first command need a few MiB, and a smaller limit is surely a unit mistake.</summary>
    private static long ParseMemoryMax(string text) =>
        ByteCount.TryParse(text, out var bytes) && bytes >= 4L << 20
            ? bytes
            : throw new SettingsException($"DSTACK_RUNNER_JOB_MEMORY_MAX must be a size of at least 4MiB, such as 8GiB or 512MiB, got '{text}'");

    /// <summary>At least 1 MiB: a job's shell history alone can take kilobytes, and a smaller limit is surely a unit mistake.</summary>
    private static long ParseDiskMax(string text) =>
        ByteCount.TryParse(text, out var bytes) && bytes >= 1L << 20
            ? bytes
            : throw new SettingsException($"DSTACK_RUNNER_JOB_DISK_MAX must be a size of at least 1MiB, such as 10GiB or 512MiB, got '{text}'");

    /// <summary>The kernel's own ceiling for pid_max (2^22): more processes than that cannot exist at all.</summary>
    private const int PidsMaxCeiling = 4_194_304;

    private static int ParsePidsMax(string text) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var max) && max is >= 1 and <= PidsMaxCeiling
            ? max
            : throw new SettingsException($"DSTACK_RUNNER_JOB_PIDS_MAX must be a whole number of processes from 1 to {PidsMaxCeiling}, got '{text}'");

    /// <summary>A million: far above what one machine's process table holds as jobs, so anything larger is a typo.</summary>
    private const int MaxJobsCeiling = 1_000_000;

    private static int ParseMaxJobs(string text) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var max) && max is >= 1 and <= MaxJobsCeiling
            ? max
            : throw new SettingsException($"DSTACK_RUNNER_MAX_JOBS must be a whole number of jobs from 1 to {MaxJobsCeiling}, got '{text}'");

    private static long ParseCodeMaxUnpacked(string text) =>
        ByteCount.TryParse(text, out var bytes) && bytes >= 1
            ? bytes
            : throw new SettingsException($"DSTACK_RUNNER_CODE_MAX_UNPACKED must be a size above 0 such as 1GiB or 512MiB, got '{text}'");

    private static string ParseWorkDir(string text) =>
        Path.IsPathFullyQualified(text) && !text.Contains('\0', StringComparison.Ordinal)
            ? Path.TrimEndingDirectorySeparator(Path.GetFullPath(text))
            : throw new SettingsException($"DSTACK_RUNNER_WORK_DIR must be an absolute path, got '{text}'");

    /// <summary>The name is looked up when the runner starts; here only its shape (POSIX portable user names) is checked.</summary>
    private static string ParseUserName(string text) =>
        text.Length <= 32 && text[0] != '-' && text.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.')
            ? text
            : throw new SettingsException($"DSTACK_RUNNER_JOB_USER must be the name of an existing user, got '{text}'");

    private static List<string> ParseEnvPass(string text)
    {
        var names = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        foreach (var name in names)
        {
            // JobSpecRules.EnvNamePattern: POSIX portable names.
            if (char.IsAsciiDigit(name[0]) || !name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_'))
            {
                throw new SettingsException($"DSTACK_RUNNER_JOB_ENV_PASS must be a comma-separated list of variable names, got '{text}'");
            }

            // The tokens and LogQuota's own settings are never a job's business.
            if (name.StartsWith("DSTACK_", StringComparison.Ordinal))
            {
                throw new SettingsException($"DSTACK_RUNNER_JOB_ENV_PASS must not name LogQuota's own DSTACK_ settings, got '{name}'");
            }
        }

        return [.. names.Distinct(StringComparer.Ordinal)];
    }

    private static RunnerExecutor ParseExecutor(string text) => text switch
    {
        "local" => RunnerExecutor.Local,
        "slurm" => RunnerExecutor.Slurm,
        _ => throw new SettingsException($"DSTACK_RUNNER_EXECUTOR must be local or slurm, got '{text}'"),
    };

    /// <summary>Options only (each starting with <c>-</c>, or the value of the one before): a command or a shell word would change what runs.</summary>
    private static List<string> ParseSlurmArgs(string text)
    {
        var args = text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        if (args.Length > 0 && !args[0].StartsWith('-') || args.Any(a => a.Contains('\'', StringComparison.Ordinal) || a.Contains('"', StringComparison.Ordinal)))
        {
            throw new SettingsException($"DSTACK_RUNNER_SLURM_ARGS must be Slurm options separated by spaces, such as '--account=ml --qos=normal', without quotes, got '{text}'");
        }

        return [.. args];
    }

    private static List<string> ParsePartitions(string text)
    {
        var names = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (names.Length == 0 || names.Any(n => !n.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.')))
        {
            throw new SettingsException($"DSTACK_RUNNER_SLURM_PARTITIONS must be a comma-separated list of Slurm partition names, got '{text}'");
        }

        return [.. names.Distinct(StringComparer.Ordinal)];
    }

    private static bool ParseOnOff(string name, string text) => text switch
    {
        "on" => true,
        "off" => false,
        _ => throw new SettingsException($"{name} must be on or off, got '{text}'"),
    };

    private static bool IsLoopback(string host) =>
        host == "localhost" || (IPAddress.TryParse(host, out var address) && IPAddress.IsLoopback(address));

    private static int ParsePort(string text) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port <= 65535
            ? port
            : throw new SettingsException($"DSTACK_RUNNER_PORT must be a port number from 0 to 65535, got '{text}'");
}

/// <summary>An inclusive range of uids (<c>DSTACK_RUNNER_JOB_UIDS</c>).</summary>
public sealed record UidRange(uint First, uint Last)
{
    /// <summary><c>200000-299999</c>: above every distribution's system and login uids and below 2^31.</summary>
    public static UidRange Default { get; } = new(200000, 299999);

    public uint Count => Last - First + 1;

    public bool Contains(uint uid) => uid >= First && uid <= Last;

    /// <summary>Parses <c>FIRST-LAST</c>; uid 0 (root) and 2^32-1 (the kernel's "no uid") are refused.</summary>
    public static UidRange Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var parts = text.Split('-');
        if (parts.Length == 2
            && uint.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var first)
            && uint.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var last)
            && first >= 1 && first <= last && last < uint.MaxValue)
        {
            return new UidRange(first, last);
        }

        throw new SettingsException($"DSTACK_RUNNER_JOB_UIDS must be a range of uids FIRST-LAST above 0 (e.g. 200000-299999), got '{text}'");
    }

    public override string ToString() => $"{First}-{Last}";
}

/// <summary>Where a runner runs its jobs (<c>DSTACK_RUNNER_EXECUTOR</c>).</summary>
public enum RunnerExecutor
{
    /// <summary>On the runner's own host, in its isolation (cgroup, PID namespace, uid).</summary>
    Local,

    /// <summary>Through Slurm: each job is an allocation, its command a step under the runner's terminal.</summary>
    Slurm,
}

/// <summary>A setting is invalid; the message names it and its value.</summary>
public sealed class SettingsException(string message) : Exception(message);
