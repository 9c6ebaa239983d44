namespace LogQuota.Server.Data;

/// <summary>
/// One entry of a run's <c>events</c>: what the runner reported about its quota (warnings, crossings, drop reports,
/// committed with the page of the pull that carried them) and what the server itself saw (a stop asked, a runner lost).
/// </summary>
public sealed class RunEventEntity
{
    public long Id { get; set; }

    public Guid RunId { get; set; }

    /// <summary>When it happened: the runner's timestamp for the runner's events, the server's clock for its own.</summary>
    public DateTimeOffset Timestamp { get; set; }

    /// <summary>A <c>JobEventTypes</c> name, such as <c>log_quota_warning</c>.</summary>
    public required string Type { get; set; }

    public required string Message { get; set; }
}
