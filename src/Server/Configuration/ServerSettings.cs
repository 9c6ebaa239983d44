using LogQuota.Shared.Contracts;

namespace LogQuota.Server.Configuration;

/// <summary>
/// The server's settings (SPEC §4), read once from <c>DSTACK_*</c> environment variables at start-up.
/// Every value is validated before anything is built, so a bad one ends start-up with one line.
/// </summary>
public sealed record ServerSettings
{
    /// <summary>The default hourly log quota per job: 50 MiB.</summary>
    public const long DefaultLogQuotaPerJobHour = 52_428_800;

    /// <summary>The default largest code upload, compressed: 128 MiB.</summary>
    public const long DefaultCodeMaxBytes = 128L << 20;

    /// <summary>Address to listen on (<c>DSTACK_SERVER_HOST</c>).</summary>
    public string Host { get; init; } = "127.0.0.1";

    /// <summary>Port to listen on (<c>DSTACK_SERVER_PORT</c>).</summary>
    public int Port { get; init; } = 3000;

    /// <summary>Data directory (<c>DSTACK_SERVER_DIR</c>): the database, the admin token file, the local runner's spools.</summary>
    public required string Dir { get; init; }

    /// <summary>The engine named by <c>DSTACK_DATABASE_URL</c>: SQLite (the default) or PostgreSQL.</summary>
    public DatabaseProvider DatabaseProvider { get; init; } = DatabaseProvider.Sqlite;

    /// <summary>Connection string derived from <c>DSTACK_DATABASE_URL</c> (default: SQLite <c>server.db</c> in <see cref="Dir"/>).</summary>
    public required string ConnectionString { get; init; }

    /// <summary>Bearer token for the REST API (<c>DSTACK_SERVER_ADMIN_TOKEN</c>, or the token file in <see cref="Dir"/>).</summary>
    public required string AdminToken { get; init; }

    /// <summary>Hourly log quota per job in bytes (<c>DSTACK_SERVER_LOG_QUOTA_PER_JOB_HOUR</c>); 0 disables it.</summary>
    public long LogQuotaPerJobHour { get; init; } = DefaultLogQuotaPerJobHour;

    /// <summary>What happens at the quota's crossing unless a run asks otherwise (<c>DSTACK_SERVER_LOG_QUOTA_ACTION</c>, default <c>kill</c>).</summary>
    public LogQuotaAction LogQuotaAction { get; init; } = LogQuotaAction.Kill;

    /// <summary>Percentages of the quota at which a run is warned, once per bucket each (<c>DSTACK_SERVER_LOG_QUOTA_WARN_AT</c>, default 80; empty: none).</summary>
    public IReadOnlyList<int> LogQuotaWarnAt { get; init; } = [80];

    /// <summary>Base URLs of the runners (<c>DSTACK_SERVER_RUNNERS</c>); empty: the server hosts one local runner.</summary>
    public IReadOnlyList<Uri> Runners { get; init; } = [];

    /// <summary>Bearer token shared with the runners (<c>DSTACK_RUNNER_TOKEN</c>).</summary>
    public string? RunnerToken { get; init; }

    /// <summary>How long a runner may fail every call before its jobs fail (<c>DSTACK_SERVER_RUNNER_UNREACHABLE_TIMEOUT</c>, seconds).</summary>
    public TimeSpan RunnerUnreachableTimeout { get; init; } = TimeSpan.FromSeconds(120);

    /// <summary>How often the job processor wakes up (<c>DSTACK_SERVER_POLL_INTERVAL</c>, seconds).</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How long a replica's lease (and with it every job it holds), or its lease of a runner's stream, holds without a
    /// heartbeat (<c>DSTACK_SERVER_JOB_LEASE</c>, seconds, default 15; PostgreSQL only): the longest a killed replica's
    /// jobs wait before another replica takes them over (LOCKING.md).
    /// </summary>
    public TimeSpan JobLease { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>Logs of runs finished longer ago are deleted (<c>DSTACK_SERVER_LOG_RETENTION</c>); null keeps them all.</summary>
    public TimeSpan? LogRetention { get; init; }

    /// <summary>Largest code archive <c>PUT /api/code/{sha256}</c> takes, compressed (<c>DSTACK_SERVER_CODE_MAX_BYTES</c>); 0 turns uploads off.</summary>
    public long CodeMaxBytes { get; init; } = DefaultCodeMaxBytes;

    /// <summary>How runs' events come from the runners (<c>DSTACK_SERVER_PULL</c>).</summary>
    public PullMode Pull { get; init; } = PullMode.Stream;

    /// <summary>The quota as it goes into a job spec: null when disabled.</summary>
    public long? LogQuotaOrNull => LogQuotaPerJobHour == 0 ? null : LogQuotaPerJobHour;

    /// <summary>True when the server hosts its own runner.</summary>
    public bool UsesEmbeddedRunner => Runners.Count == 0;
}

/// <summary>How the server collects what jobs produce from their runners.</summary>
public enum PullMode
{
    /// <summary>One long-polled stream per runner (<c>GET /api/pull</c>); per-job calls only when a job needs one.</summary>
    Stream,

    /// <summary>One pull per job per pass (<c>GET /api/jobs/{id}/pull</c>): the design before the stream, kept for comparison
    /// and for runners without the stream.</summary>
    Job,
}
