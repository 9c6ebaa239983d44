using System.Globalization;
using System.Net;
using LogQuota.Shared.Contracts;

namespace LogQuota.Server.Configuration;

/// <summary>Reads and validates <see cref="ServerSettings"/> from configuration keys named like the environment variables.</summary>
public static class ServerSettingsLoader
{
    public const string HostVariable = "DSTACK_SERVER_HOST";
    public const string PortVariable = "DSTACK_SERVER_PORT";
    public const string DirVariable = "DSTACK_SERVER_DIR";
    public const string DatabaseUrlVariable = "DSTACK_DATABASE_URL";
    public const string AdminTokenVariable = "DSTACK_SERVER_ADMIN_TOKEN";
    public const string LogQuotaVariable = "DSTACK_SERVER_LOG_QUOTA_PER_JOB_HOUR";
    public const string LogQuotaActionVariable = "DSTACK_SERVER_LOG_QUOTA_ACTION";
    public const string LogQuotaWarnAtVariable = "DSTACK_SERVER_LOG_QUOTA_WARN_AT";
    public const string RunnersVariable = "DSTACK_SERVER_RUNNERS";
    public const string RunnerTokenVariable = "DSTACK_RUNNER_TOKEN";
    public const string UnreachableTimeoutVariable = "DSTACK_SERVER_RUNNER_UNREACHABLE_TIMEOUT";
    public const string PollIntervalVariable = "DSTACK_SERVER_POLL_INTERVAL";
    public const string JobLeaseVariable = "DSTACK_SERVER_JOB_LEASE";
    public const string CodeMaxBytesVariable = "DSTACK_SERVER_CODE_MAX_BYTES";
    public const string PullVariable = "DSTACK_SERVER_PULL";

    /// <summary>Reads every setting; the first bad one throws <see cref="SettingsException"/> naming the variable and the value.</summary>
    /// <param name="configuration">Where the variables are looked up (the process environment in production).</param>
    /// <param name="output">Where the admin token is printed when it comes from the token file.</param>
    public static ServerSettings Load(IConfiguration configuration, TextWriter output) =>
        WithAdminToken(Read(configuration), output);

    /// <summary>
    /// Reads and checks every setting without touching the disk; <see cref="ServerSettings.AdminToken"/> is empty
    /// unless <c>DSTACK_SERVER_ADMIN_TOKEN</c> is set (<see cref="WithAdminToken"/> reads or creates the token file).
    /// </summary>
    public static ServerSettings Read(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);

        var dir = ReadDir(configuration);
        var (provider, connectionString) = DatabaseUrl.Parse(Value(configuration, DatabaseUrlVariable), dir);
        var pollInterval = ReadSeconds(configuration, PollIntervalVariable, TimeSpan.FromSeconds(1));
        var jobLease = ReadSeconds(configuration, JobLeaseVariable, TimeSpan.FromSeconds(15));

        // A lease is renewed three times per period, and a stream's is asked for every tenth: one shorter than a few
        // passes would lapse under a live replica whose database answers slowly.
        if (jobLease < 3 * pollInterval)
        {
            throw Bad(JobLeaseVariable, configuration[JobLeaseVariable] ?? "15", $"must be at least 3 poll intervals ({PollIntervalVariable} is {pollInterval.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)} s)");
        }

        return new ServerSettings
        {
            Host = ReadHost(configuration),
            Port = ReadPort(configuration),
            Dir = dir,
            DatabaseProvider = provider,
            ConnectionString = connectionString,
            LogQuotaPerJobHour = ReadLogQuota(configuration),
            LogQuotaAction = ParseLogQuotaAction(configuration[LogQuotaActionVariable]),
            LogQuotaWarnAt = ParseWarnAt(configuration[LogQuotaWarnAtVariable]),
            Runners = ReadRunners(configuration),
            RunnerToken = ReadToken(configuration, RunnerTokenVariable),
            RunnerUnreachableTimeout = ReadSeconds(configuration, UnreachableTimeoutVariable, TimeSpan.FromSeconds(120)),
            PollInterval = pollInterval,
            JobLease = jobLease,
            AdminToken = ReadToken(configuration, AdminTokenVariable) ?? "",
            LogRetention = RetentionSetting.Parse(configuration[RetentionSetting.Variable]),
            CodeMaxBytes = ParseCodeMaxBytes(configuration[CodeMaxBytesVariable]),
            Pull = ParsePull(configuration[PullVariable]),
        };
    }

    /// <summary>Fills in the admin token from the token file in the server directory when no variable set it; prints it.</summary>
    public static ServerSettings WithAdminToken(ServerSettings settings, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(output);
        return settings.AdminToken.Length > 0 ? settings : settings with { AdminToken = AdminTokenFile.ReadOrCreate(settings.Dir, output) };
    }

    /// <summary>Parses <c>DSTACK_SERVER_LOG_QUOTA_PER_JOB_HOUR</c>: a whole number of bytes, 0 disables.</summary>
    public static long ParseLogQuota(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return ServerSettings.DefaultLogQuotaPerJobHour;
        }

        // NumberStyles.None: no sign, no spaces, no separators; "-1", "1e6" and "10 MB" are all refused.
        if (long.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var bytes))
        {
            return bytes;
        }

        throw Bad(LogQuotaVariable, text, "must be a whole number of bytes from 0 (disabled) to 9223372036854775807");
    }

    /// <summary>Parses <c>DSTACK_SERVER_PULL</c>: <c>stream</c> (the default) or <c>job</c>.</summary>
    public static PullMode ParsePull(string? text) => text?.Trim().ToLowerInvariant() switch
    {
        null or "" or "stream" => PullMode.Stream,
        "job" => PullMode.Job,
        _ => throw Bad(PullVariable, text, "must be stream (one long-polled stream per runner) or job (one pull per job per pass)"),
    };

    /// <summary>Parses <c>DSTACK_SERVER_CODE_MAX_BYTES</c>: bytes with an optional unit (<c>128MiB</c>, <c>1G</c>); 0 turns uploads off.</summary>
    public static long ParseCodeMaxBytes(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return ServerSettings.DefaultCodeMaxBytes;
        }

        if (ByteCount.TryParse(text, out var bytes))
        {
            return bytes;
        }

        throw Bad(CodeMaxBytesVariable, text, "must be a number of bytes with an optional unit, such as 134217728, 128MiB or 1G; 0 turns code uploads off");
    }

    /// <summary>Parses <c>DSTACK_SERVER_LOG_QUOTA_ACTION</c>: <c>kill</c> (the default), <c>truncate</c> or <c>observe</c>.</summary>
    public static LogQuotaAction ParseLogQuotaAction(string? text) => text?.Trim() switch
    {
        null or "" => LogQuotaAction.Kill,
        var name when WireNames.TryParse<LogQuotaAction>(name, out var action) => action,
        _ => throw Bad(LogQuotaActionVariable, text, $"must be {WireNames.Alternatives<LogQuotaAction>()}"),
    };

    /// <summary>
    /// Parses <c>DSTACK_SERVER_LOG_QUOTA_WARN_AT</c>: comma-separated whole percentages from 1 to 99 (<c>75,90</c>);
    /// unset is the default, 80; set but empty disables warnings.
    /// </summary>
    public static IReadOnlyList<int> ParseWarnAt(string? text)
    {
        if (text is null)
        {
            return [80];
        }

        var percentages = new List<int>();
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (!int.TryParse(part.TrimEnd('%'), NumberStyles.None, CultureInfo.InvariantCulture, out var percent) || percent is < 1 or > 99)
            {
                throw Bad(LogQuotaWarnAtVariable, text, "must be a comma-separated list of whole percentages from 1 to 99, such as 80 or 75,90");
            }

            percentages.Add(percent);
        }

        if (JobSpecRules.CheckWarnAt(percentages) is { } problem)
        {
            throw Bad(LogQuotaWarnAtVariable, text, $"is refused ({problem.TrimEnd('.')})");
        }

        return [.. percentages.Distinct().Order()];
    }

    private static string? Value(IConfiguration configuration, string name)
    {
        var value = configuration[name];
        return string.IsNullOrWhiteSpace(value) ? null : value;
    }

    private static long ReadLogQuota(IConfiguration configuration) =>
        ParseLogQuota(configuration[LogQuotaVariable]);

    private static string ReadHost(IConfiguration configuration)
    {
        var host = Value(configuration, HostVariable) ?? "127.0.0.1";

        // Kestrel binds every interface for a name it cannot resolve to an address ("nothost" listened on [::]),
        // so only addresses and localhost are taken, as by the runner.
        if (host != "localhost" && !IPAddress.TryParse(host.Trim('[', ']'), out _))
        {
            throw Bad(HostVariable, host, "must be an IP address (such as 127.0.0.1, 0.0.0.0 or ::) or localhost");
        }

        return host;
    }

    private static string? ReadToken(IConfiguration configuration, string name)
    {
        var token = Value(configuration, name);
        if (token is not null && (token.Length < 16 || token.Any(char.IsWhiteSpace)))
        {
            // The value is a secret: the line names the variable and the rule, never the token.
            throw new SettingsException($"{name} is invalid: it must be at least 16 characters without whitespace.");
        }

        return token;
    }

    private static int ReadPort(IConfiguration configuration)
    {
        var text = Value(configuration, PortVariable);
        if (text is null)
        {
            return 3000;
        }

        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port <= 65535)
        {
            return port;
        }

        throw Bad(PortVariable, text, "must be a port number from 0 to 65535");
    }

    private static string ReadDir(IConfiguration configuration)
    {
        var text = Value(configuration, DirVariable);
        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        if (text is null)
        {
            return Path.GetFullPath(Path.Combine(home, ".logquota", "server"));
        }

        if (text.Contains('\0', StringComparison.Ordinal))
        {
            throw Bad(DirVariable, text, "must be a directory path");
        }

        return Path.GetFullPath(text.StartsWith('~') ? home + text[1..] : text);
    }

    private static List<Uri> ReadRunners(IConfiguration configuration)
    {
        var text = Value(configuration, RunnersVariable);
        if (text is null)
        {
            return [];
        }

        var runners = new List<Uri>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!Runners.RunnerAddress.TryParse(part, out var normalized))
            {
                throw Bad(RunnersVariable, part, "must be a comma-separated list of http(s) base URLs such as http://10.0.0.5:10999");
            }

            if (!runners.Contains(normalized))
            {
                runners.Add(normalized);
            }
        }

        return runners;
    }

    private static TimeSpan ReadSeconds(IConfiguration configuration, string name, TimeSpan defaultValue)
    {
        var text = Value(configuration, name);
        if (text is null)
        {
            return defaultValue;
        }

        // Fractions are allowed (0.2 s polls keep tests quick); the upper bound keeps TimeSpan from overflowing.
        if (double.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var seconds) &&
            seconds >= 0.01 && seconds <= 86_400)
        {
            return TimeSpan.FromSeconds(seconds);
        }

        throw Bad(name, text, "must be a number of seconds from 0.01 to 86400");
    }

    private static SettingsException Bad(string name, string value, string rule) =>
        new($"{name}={value} is invalid: it {rule}.");
}
