using LogQuota.Cli.Formatting;
using LogQuota.Shared.Api;
using LogQuota.Shared.Contracts;
using LogQuota.Shared.Json;

namespace LogQuota.Cli.Logs;

/// <summary>
/// Copies a run's stored log to a stream as it grows: each poll asks for the events after the last one
/// written (<c>start_time</c> is exclusive), so nothing is written twice or skipped.
/// </summary>
/// <remarks>
/// The run is read before its logs: the server stores a job's logs no later than its final state (one
/// transaction per pull, the final state event after the last log event), so once a finished run has been
/// seen, the logs read after it are complete.
/// </remarks>
public sealed class LogFollower(IServerApi api, string runName, Stream output)
{
    /// <summary>How often a follower asks again when nothing new arrived: half the server's default poll interval.</summary>
    public static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(500);

    private DateTimeOffset? _last;

    /// <summary>True when something was written and its last byte was not a line end (a prompt-less last line).</summary>
    public bool EndsMidLine { get; private set; }

    /// <summary>Reads the run, then writes every log event stored since the previous call.</summary>
    /// <returns>The run as it was before its logs were read.</returns>
    public async Task<RunRow> PollAsync(CancellationToken cancellationToken)
    {
        var run = await api.GetRunAsync(runName, cancellationToken);
        await CopyNewEventsAsync(cancellationToken);
        return run;
    }

    /// <summary>Polls until the run has finished and its whole log is written.</summary>
    /// <returns>The finished run.</returns>
    public async Task<RunRow> FollowAsync(TimeProvider time, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(time);
        while (true)
        {
            var run = await PollAsync(cancellationToken);
            if (run.Status.IsFinished())
            {
                return run;
            }

            await Task.Delay(PollInterval, time, cancellationToken);
        }
    }

    private async Task CopyNewEventsAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var page = await api.GetLogsAsync(
                runName,
                new LogsQuery { StartTime = _last is { } last ? UtcMillisecondsDateTimeOffsetConverter.ToWire(last) : null },
                cancellationToken);
            foreach (var e in page.Logs)
            {
                await output.WriteAsync(e.Message, cancellationToken);
                _last = e.Timestamp;
                if (e.Message.Length > 0)
                {
                    EndsMidLine = e.Message[^1] != (byte)'\n';
                }
            }

            await output.FlushAsync(cancellationToken);

            // A full page says more is stored already; the next page starts after its last event.
            if (page.NextToken is null || page.Logs.Count == 0)
            {
                return;
            }
        }
    }
}
