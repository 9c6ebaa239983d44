namespace LogQuota.Shared.Contracts;

/// <summary>Which log lines to read (<c>source</c> of the logs endpoint, <c>--source</c> of <c>logquota logs</c>).</summary>
public enum LogSourceFilter
{
    /// <summary>The job's own output only (<see cref="LogSource.Stdout"/>).</summary>
    Job,

    /// <summary>Only the <c>[logquota] </c> marker lines and dropped tails the runner wrote (<see cref="LogSource.Runner"/>).</summary>
    Runner,

    /// <summary>Both, in order (the default).</summary>
    All,
}

/// <summary>What a <see cref="LogSourceFilter"/> selects.</summary>
public static class LogSourceFilters
{
    /// <summary>The one source the filter keeps, or null when it keeps both.</summary>
    public static LogSource? Source(this LogSourceFilter filter) => filter switch
    {
        LogSourceFilter.Job => LogSource.Stdout,
        LogSourceFilter.Runner => LogSource.Runner,
        _ => null,
    };
}
