using System.Collections;
using System.Globalization;
using System.Net;

namespace LogQuota.Runner.Configuration;

/// <summary>The runner's settings (SPEC §3), read from <c>DSTACK_RUNNER_*</c> environment variables.</summary>
public sealed class RunnerSettings
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
        };
        settings.Validate();
        return settings;
    }

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

        if (Token is not null && (Token.Length < 16 || Token.Any(char.IsWhiteSpace)))
        {
            throw new SettingsException("DSTACK_RUNNER_TOKEN must be at least 16 characters without whitespace");
        }

        if (Token is null && !IsLoopback(Host))
        {
            throw new SettingsException(
                $"DSTACK_RUNNER_TOKEN is required when DSTACK_RUNNER_HOST is not a loopback address (got '{Host}')");
        }
    }

    private static bool IsLoopback(string host) =>
        host == "localhost" || (IPAddress.TryParse(host, out var address) && IPAddress.IsLoopback(address));

    private static int ParsePort(string text) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port <= 65535
            ? port
            : throw new SettingsException($"DSTACK_RUNNER_PORT must be a port number from 0 to 65535, got '{text}'");
}

/// <summary>A setting is invalid; the message names it and its value.</summary>
public sealed class SettingsException(string message) : Exception(message);
