using System.Globalization;
using System.Security.Cryptography;
using LogQuota.Runner.Jobs;
using LogQuota.Shared.Contracts;

namespace LogQuota.Runner.Streaming;

/// <summary>
/// The runner-wide sequence of what its jobs produce (SPEC §3 <c>GET /api/pull</c>): every change of a job (a stored
/// log event, a state, a quota event, a new live region) takes the next number of one runner-wide counter, and an
/// answer carries every job that changed after the cursor it was asked for, from the position in that job's own
/// journal (its per-job pull timestamp) that the caller has acknowledged.
/// <para>
/// A cursor names one answer (<c>epoch:answer</c>). The caller acknowledges an answer by asking for what follows it,
/// which it does only after it stored the answer; only then do that answer's per-job positions become the base of the
/// next one. An answer never acknowledged (its caller died before storing it, or lost its lease) changes nothing, so
/// asking again from the earlier cursor answers the same events again: nothing is skipped. A cursor this process does
/// not know (another epoch: an earlier runner process, whose jobs died with it; or one from before the last
/// acknowledgement) starts afresh from position 0 of every job, with the list of jobs held: nothing is skipped either,
/// and the caller drops what it stored already by the per-job position it keeps.
/// </para>
/// </summary>
internal sealed class RunnerStream(TimeProvider time)
{
    /// <summary>Log text per answer, over all its jobs: as a per-job pull's page (4 MiB), so memory per request stays bounded.</summary>
    public const int MaxAnswerLogBytes = 4 * 1024 * 1024;

    /// <summary>Answers kept for acknowledgement: a caller acknowledges the latest; the rest are retries or stale callers.</summary>
    private const int MaxPendingAnswers = 16;

    /// <summary>Names this runner process in every cursor, so a cursor of an earlier process is known as such.</summary>
    private readonly string _epoch = RandomNumberGenerator.GetHexString(12, lowercase: true);

    private readonly Lock _lock = new();
    private readonly Dictionary<Guid, JobCursor> _jobs = [];
    private readonly Dictionary<long, Answer> _pending = [];
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _seq;
    private long _answers;
    private long _ackedAnswer = -1;
    private long _ackedSeq;

    /// <summary>The cursor of a runner process, for tests.</summary>
    public string Epoch => _epoch;

    /// <summary>Job <paramref name="job"/> changed: it takes the next number of the sequence, and waiting requests wake.</summary>
    public void Changed(Job job)
    {
        ArgumentNullException.ThrowIfNull(job);
        TaskCompletionSource signal;
        lock (_lock)
        {
            if (!_jobs.TryGetValue(job.Id, out var cursor))
            {
                cursor = new JobCursor();
                _jobs[job.Id] = cursor;
            }

            cursor.ChangedAt = ++_seq;
            signal = _changed;
            _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        signal.TrySetResult();
    }

    /// <summary>The job was deleted: nothing of it is answered any more.</summary>
    public void Forget(Guid jobId)
    {
        lock (_lock)
        {
            _jobs.Remove(jobId);
        }
    }

    /// <summary>True when <paramref name="cursor"/> is null, empty or of the form this stream hands out.</summary>
    public static bool IsWellFormed(string? cursor) => cursor is null or "" || TryParse(cursor, out _, out _);

    /// <summary>
    /// Everything after <paramref name="after"/>: at once when something is there (or the cursor starts afresh), else
    /// once something comes, or empty after <paramref name="wait"/>.
    /// </summary>
    /// <param name="find">The job with an id, or null once deleted.</param>
    /// <param name="held">The ids of every job held, for an answer that starts afresh.</param>
    public async Task<StreamResponse> PullAsync(
        string? after, TimeSpan wait, Func<Guid, Job?> find, Func<IEnumerable<Guid>> held, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(find);
        ArgumentNullException.ThrowIfNull(held);
        var started = time.GetTimestamp();
        while (true)
        {
            Task changed;
            Snapshot? snapshot = null;
            lock (_lock)
            {
                var fresh = !Acknowledge(after);
                if (fresh || _jobs.Values.Any(j => j.ChangedAt > _ackedSeq))
                {
                    snapshot = Due(fresh);
                }

                changed = _changed.Task;
            }

            if (snapshot is not null)
            {
                return Collect(snapshot, find, held);
            }

            var left = wait - time.GetElapsedTime(started);
            if (left <= TimeSpan.Zero)
            {
                return new StreamResponse(after!, HasMore: false, []);
            }

            try
            {
                await changed.WaitAsync(left, time, cancellationToken);
            }
            catch (TimeoutException)
            {
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // The runner is stopping or the caller went away: an empty answer, the cursor unchanged.
                return new StreamResponse(after!, HasMore: false, []);
            }
        }
    }

    /// <summary>
    /// Makes <paramref name="after"/> the base of the next answer (caller holds the lock). False when it is not a
    /// cursor of this process that can be a base: the answer then starts afresh.
    /// </summary>
    private bool Acknowledge(string? after)
    {
        if (after is null or "" || !TryParse(after, out var epoch, out var answer) || epoch != _epoch)
        {
            return false;
        }

        if (answer == _ackedAnswer)
        {
            return true;
        }

        if (!_pending.Remove(answer, out var acknowledged) || (!acknowledged.Fresh && acknowledged.Base != _ackedAnswer))
        {
            // Not known, or made from a base acknowledged since by someone else (two callers at once): its positions
            // cannot be trusted for the jobs it left out.
            // Older than the last acknowledgement, too: asked by a caller that cannot store it (its cursor moved on). An
            // answer from position 0 is safe whoever asked.
            return false;
        }

        if (acknowledged.Fresh)
        {
            foreach (var job in _jobs.Values)
            {
                job.Acked = 0;
            }
        }

        foreach (var (jobId, position) in acknowledged.Positions)
        {
            if (_jobs.TryGetValue(jobId, out var job))
            {
                job.Acked = position;
            }
        }

        _ackedAnswer = answer;
        _ackedSeq = acknowledged.Seq;

        // Every other answer was made from an earlier base: none of them can be stored any more.
        _pending.Clear();
        return true;
    }

    /// <summary>Which jobs an answer takes, from where (caller holds the lock).</summary>
    private Snapshot Due(bool fresh)
    {
        var baseSeq = fresh ? 0 : _ackedSeq;
        var due = _jobs.Where(j => j.Value.ChangedAt > baseSeq)
            .Select(j => new DueJob(j.Key, j.Value.ChangedAt, fresh ? 0 : j.Value.Acked))
            .OrderBy(j => j.ChangedAt)
            .ToList();

        // Every change numbered up to _seq is in this answer or a later one: one numbered after it is answered next time.
        return new Snapshot(fresh, fresh ? -1 : _ackedAnswer, baseSeq, _seq, due);
    }

    /// <summary>
    /// Builds one answer from <paramref name="snapshot"/>, outside the stream's lock: a job's lock is taken here, and a job
    /// reports its changes holding its own lock, so the two are never held the other way round.
    /// </summary>
    private StreamResponse Collect(Snapshot snapshot, Func<Guid, Job?> find, Func<IEnumerable<Guid>> held)
    {
        var seq = snapshot.Seq;
        var budget = (long)MaxAnswerLogBytes;
        var pages = new List<StreamJobPage>();
        var positions = new Dictionary<Guid, long>();
        var cut = new List<Guid>();
        var hasMore = false;
        long lastTaken = snapshot.BaseSeq;
        foreach (var (id, changedAt, position) in snapshot.Due)
        {
            if (budget <= 0)
            {
                // Cut here: every job numbered up to the last one taken is in this answer, the rest come next.
                seq = lastTaken;
                hasMore = true;
                break;
            }

            lastTaken = changedAt;
            if (find(id) is not { } job)
            {
                continue;
            }

            var page = job.Pull(position, (int)budget);
            var bytes = page.JobLogs.Sum(l => (long)l.Message.Length);
            if (bytes * 2 >= budget && job.Pull(page.LastUpdated, 1).JobLogs.Count > 0)
            {
                // The page was cut by the budget: the job's rest comes with the next answer, numbered as a change.
                cut.Add(id);
                hasMore = true;
            }

            budget -= bytes;
            pages.Add(new StreamJobPage(id, page));
            positions[id] = page.LastUpdated;
        }

        long answer;
        lock (_lock)
        {
            foreach (var id in cut)
            {
                if (_jobs.TryGetValue(id, out var job))
                {
                    job.ChangedAt = ++_seq;
                }
            }

            answer = ++_answers;
            if (_pending.Count >= MaxPendingAnswers)
            {
                _pending.Remove(_pending.Keys.Min());
            }

            _pending[answer] = new Answer(seq, snapshot.Fresh, snapshot.BaseAnswer, positions);
        }

        return new StreamResponse(Format(answer), hasMore, pages, snapshot.Fresh ? [.. held()] : null);
    }

    private string Format(long answer) => string.Create(CultureInfo.InvariantCulture, $"{_epoch}:{answer}");

    private static bool TryParse(string cursor, out string epoch, out long answer)
    {
        var colon = cursor.IndexOf(':', StringComparison.Ordinal);
        epoch = colon > 0 ? cursor[..colon] : string.Empty;
        answer = 0;
        return colon > 0 && colon < 64
            && long.TryParse(cursor.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out answer);
    }

    /// <summary>A job's place in the stream: the number of its last change, and its position the caller acknowledged.</summary>
    private sealed class JobCursor
    {
        public long ChangedAt { get; set; }

        public long Acked { get; set; }
    }

    /// <summary>An answer handed out and not yet acknowledged: the sequence number it covers, the answer it was made
    /// after, and the positions it delivered.</summary>
    private sealed record Answer(long Seq, bool Fresh, long Base, Dictionary<Guid, long> Positions);

    private sealed record DueJob(Guid Id, long ChangedAt, long Position);

    private sealed record Snapshot(bool Fresh, long BaseAnswer, long BaseSeq, long Seq, List<DueJob> Due);
}
