using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using LogQuota.Server.Configuration;
using LogQuota.Server.Data;
using LogQuota.Server.Data.Faults;
using LogQuota.Server.Replicas;
using LogQuota.Server.Runners;
using LogQuota.Shared.Contracts;
using LogQuota.Shared.Json;
using Microsoft.EntityFrameworkCore;

namespace LogQuota.Server.Processing;

/// <summary>
/// Reads one runner's stream (<c>GET /api/pull?after=CURSOR&amp;wait=S</c>) until told to stop: a long poll that answers as
/// soon as any job on the runner produced something, each answer stored in one transaction with the runner's cursor
/// (<see cref="RunnerStreamStore"/>). On PostgreSQL it reads only while its replica holds the runner's stream lease, keyed
/// by the runner's stored identity (LOCKING.md). While the stream fails, the job processor's passes pull that runner's
/// jobs one by one, which is also where the unreachable timeout is measured.
/// </summary>
internal sealed class RunnerStreamReader(
    ServerSettings settings,
    RunnerPool runners,
    IServiceScopeFactory scopes,
    StreamLeases leases,
    RunnerStreamStore store,
    IHttpClientFactory http,
    StorageHealth storage,
    CarriedStreams carried,
    TimeProvider time,
    ILogger<RunnerStreamReader> logger)
{
    /// <summary>The named HttpClient of the streams: no resilience pipeline, whose 5 s attempt timeout would cut a long poll.</summary>
    public const string ClientName = "runner-stream";

    /// <summary>Longest pause between attempts on a failing stream; the passes carry its jobs meanwhile.</summary>
    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(5);

    /// <summary>The longest <see cref="Gather"/>: well inside the API's one second from a write to its being visible.</summary>
    private static readonly TimeSpan MaxGather = TimeSpan.FromMilliseconds(200);

    /// <summary>
    /// How long a request waits for news: long enough that an idle runner costs one call per this period, short enough that
    /// a runner that stops answering (SIGSTOP, a cut link) is noticed well within the unreachable timeout.
    /// </summary>
    public TimeSpan Wait => TimeSpan.FromSeconds(Math.Clamp(settings.RunnerUnreachableTimeout.TotalSeconds / 4, 1, 10));

    /// <summary>
    /// How long news gathers on the runner after an answer that brought some, before the next request: 0.2 s, or the poll
    /// interval if shorter. The runner answers the moment anything follows the cursor, so without it a job printing 100
    /// lines a second made an answer, a transaction and a frame to every follower per line or two; with it a busy runner
    /// costs at most five answers a second, whatever its jobs print, and a line waits at most this long more.
    /// </summary>
    public TimeSpan Gather => settings.PollInterval < MaxGather ? settings.PollInterval : MaxGather;

    public async Task ReadAsync(StreamedRunner runner, CancellationToken stoppingToken)
    {
        var delay = TimeSpan.Zero;
        string? cursor = null;
        var known = false;
        var wait = TimeSpan.Zero;
        while (!stoppingToken.IsCancellationRequested)
        {
            if (delay > TimeSpan.Zero)
            {
                await Task.Delay(delay, time, stoppingToken);
            }

            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<ServerDbContext>();
            try
            {
                if (await leases.HoldAsync(db, runner.RunnerId, stoppingToken) is { } heldFor)
                {
                    // Another replica reads it. Asked again the moment its lease runs out, and every tenth of a lease
                    // meanwhile (a clean stop gives it up early), apart from any pass: a dead holder's stream is taken
                    // over one query after its lease ran out, however long passes take.
                    carried.Set(runner.Url, false);
                    known = false;
                    delay = AskAgainAfter(heldFor, settings.JobLease);
                    continue;
                }

                if (!known)
                {
                    cursor = await db.RunnerStreams.Where(r => r.RunnerId == runner.RunnerId).Select(r => r.Cursor).SingleOrDefaultAsync(stoppingToken);
                    known = true;
                }
            }
            catch (Exception e) when (StorageFault.From(e) is { } fault)
            {
                storage.Failed(fault);
                delay = NextDelay(delay);
                continue;
            }

            StreamResponse answer;
            long answeredAt;
            try
            {
                answer = await PullAsync(runner, cursor, wait, stoppingToken);
                answeredAt = time.GetTimestamp();
                runners.Report(runner.Url, healthy: true);
            }
            catch (Exception e) when (RunnerFailures.IsRunnerFailure(e, stoppingToken) || e is StreamUnsupportedException)
            {
                runners.Report(runner.Url, healthy: e is StreamUnsupportedException);
                if (carried.Set(runner.Url, false))
                {
                    logger.LogWarning("The stream of runner {Runner} failed ({Error}); its jobs are pulled one by one until it answers again", runner.Url, RunnerCallFailure.Describe(e));
                }

                await MarkFailingAsync(db, runner, stoppingToken);
                delay = e is StreamUnsupportedException ? TimeSpan.FromMinutes(1) : NextDelay(delay);
                continue;
            }

            try
            {
                await store.StoreAsync(db, runner, cursor, answer, stoppingToken);
                cursor = answer.Cursor;
                carried.Set(runner.Url, true);
                carried.StoreSucceeded(runner.Url);
                delay = GatherFor(answer, time.GetElapsedTime(answeredAt), Gather);
                wait = answer.HasMore ? TimeSpan.Zero : Wait;
            }
            catch (Exception e) when (e is LeaseLostException or DbUpdateException && StorageFault.From(e) is null)
            {
                // Another replica stored or took the stream meanwhile: nothing of this answer was stored; start again from the stored cursor.
                logger.LogWarning("Runner {Runner}'s stream answer was not stored: {Reason}", runner.Url, e.Message);
                known = false;
                wait = TimeSpan.Zero;
            }
            catch (Exception e) when (StorageFault.From(e) is { } fault)
            {
                // Rolled back whole; the runner answers the same again from the same cursor, no sooner than the passes
                // retry (their backoff, which these faults feed), so a full disk is not hammered.
                storage.Failed(fault);
                carried.StoreFailed(runner.Url, fault, answer.Jobs.Select(j => j.JobId));
                delay = TimeSpan.FromTicks(Math.Max(NextDelay(delay).Ticks, TimeSpan.FromSeconds(storage.RetryAfterSeconds).Ticks));
                wait = TimeSpan.Zero;
            }
        }
    }

    private async Task<StreamResponse> PullAsync(StreamedRunner runner, string? cursor, TimeSpan wait, CancellationToken cancellationToken)
    {
        var client = http.CreateClient(ClientName);
        var query = string.Create(CultureInfo.InvariantCulture, $"api/pull?wait={wait.TotalSeconds:0.###}");
        if (cursor is not null)
        {
            query += "&after=" + Uri.EscapeDataString(cursor);
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(wait + TimeSpan.FromSeconds(10));
        using var response = await client.GetAsync(new Uri(new Uri(runner.Address), query), HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        if (response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.MethodNotAllowed)
        {
            throw new StreamUnsupportedException($"runner {runner.Url} has no stream (GET /api/pull answered {(int)response.StatusCode})");
        }

        response.EnsureSuccessStatusCode();
        return await response.Content.ReadFromJsonAsync<StreamResponse>(LogQuotaJson.Options, timeout.Token)
            ?? throw new HttpRequestException($"runner {runner.Url} answered an empty stream page");
    }

    /// <summary>Tells every replica's passes that this runner's jobs need pulling one by one; written once per failure.</summary>
    private async Task MarkFailingAsync(ServerDbContext db, StreamedRunner runner, CancellationToken cancellationToken)
    {
        try
        {
            await db.RunnerStreams.Where(r => r.RunnerId == runner.RunnerId && r.FailingSince == null)
                .ExecuteUpdateAsync(u => u.SetProperty(r => r.FailingSince, time.GetUtcNow()), cancellationToken);
        }
        catch (Exception e) when (StorageFault.From(e) is not null)
        {
            // The passes of this replica know already; others learn when the database answers again.
        }
    }

    /// <summary>
    /// The pause before asking again after storing <paramref name="answer"/>, <paramref name="sinceAnswer"/> after it came:
    /// none after a wait that ran out without news or when the runner holds more than one answer (a backlog is read at
    /// once), else what is left of <paramref name="gather"/>.
    /// </summary>
    internal static TimeSpan GatherFor(StreamResponse answer, TimeSpan sinceAnswer, TimeSpan gather) =>
        answer.HasMore || answer.Jobs.Count == 0 || sinceAnswer >= gather ? TimeSpan.Zero : gather - sinceAnswer;

    /// <summary>When to ask for a stream another replica holds for <paramref name="heldFor"/> more: as it runs out, at most a tenth of a lease away.</summary>
    internal static TimeSpan AskAgainAfter(TimeSpan heldFor, TimeSpan lease)
    {
        // A millisecond past the holder's end: the database measured what is left in whole milliseconds.
        var runsOut = heldFor + TimeSpan.FromMilliseconds(1);
        return runsOut < lease / 10 ? runsOut : lease / 10;
    }

    private static TimeSpan NextDelay(TimeSpan delay) =>
        delay == TimeSpan.Zero ? TimeSpan.FromMilliseconds(500) : TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxRetryDelay.Ticks));

    /// <summary>The runner answers 404 for <c>GET /api/pull</c>: a runner from before the stream.</summary>
    private sealed class StreamUnsupportedException(string message) : Exception(message);
}
