using System.Collections.Concurrent;
using LogQuota.Server.Configuration;
using LogQuota.Server.Data;
using LogQuota.Shared.Contracts;
using Microsoft.EntityFrameworkCore;

namespace LogQuota.Server.Processing;

/// <summary>
/// Which of a pass's jobs need a call of their own. A job on a runner whose stream is carried (read and stored, by this
/// replica or, on PostgreSQL, by another one) gets its events from the stream: a pass calls its runner only to submit it,
/// forward a stop, or delete it once ended, never on a timer. Every other job (its runner's stream fails, or the server
/// pulls per job: <c>DSTACK_SERVER_PULL=job</c>, the final pass of a stopping server) is pulled one by one, as before.
/// </summary>
internal sealed class StreamedJobs(ServerSettings settings, CarriedStreams streams, Runners.RunnerPool runners, TimeProvider time)
{
    /// <summary>A submitted job's first state comes through the stream within a moment; until then it is not submitted again.</summary>
    private static readonly TimeSpan ResubmitAfter = TimeSpan.FromSeconds(5);

    private readonly ConcurrentDictionary<Guid, long> _submitted = new();
    private HashSet<string> _carried = new(StringComparer.Ordinal);

    /// <summary>True when the job's runner's stream carried its events as of this pass.</summary>
    public bool Carries(JobEntity job) => job.Runner is not null && _carried.Contains(job.Runner);

    /// <summary>The jobs whose stream answers cannot be stored now (<see cref="CarriedStreams.StoreFaults"/>).</summary>
    public List<(Guid JobId, Data.Faults.StorageFault Fault)> StoreFaults() => streams.StoreFaults();

    /// <summary>The job was handed to its runner; its state comes through the stream.</summary>
    public void Submitted(Guid jobId) => _submitted[jobId] = time.GetTimestamp();

    /// <summary>Reads, at the start of a pass, which runners' streams carry their jobs' events (none in a final pass).</summary>
    public async Task<IReadOnlyCollection<string>> RefreshAsync(ServerDbContext db, bool finalPass, CancellationToken cancellationToken)
    {
        _carried = finalPass || settings.Pull != PullMode.Stream ? [] : await CarriedAsync(db, cancellationToken);
        return _carried;
    }

    /// <summary>Of <paramref name="claimed"/>, those a pass must call a runner for, in the same order.</summary>
    public async Task<List<Guid>> SelectAsync(ServerDbContext db, List<Guid> claimed, CancellationToken cancellationToken)
    {
        if (_carried.Count == 0 || claimed.Count == 0)
        {
            return claimed;
        }

        var rows = await db.Jobs.Where(j => claimed.Contains(j.Id))
            .Select(j => new { j.Id, j.Status, j.StopRequested, j.StopSent, j.Runner })
            .ToDictionaryAsync(j => j.Id, cancellationToken);
        foreach (var gone in _submitted.Keys.Where(id => !rows.TryGetValue(id, out var row) || row.Status != JobStatus.Provisioning))
        {
            _submitted.TryRemove(gone, out _);
        }

        return claimed.Where(id => rows.TryGetValue(id, out var j) && (
                j.Runner is null || !_carried.Contains(j.Runner) ||
                (j.Status == JobStatus.Provisioning && !RecentlySubmitted(id)) ||
                (j.StopRequested && !j.StopSent) ||
                j.Status.IsFinal()))
            .ToList();
    }

    private bool RecentlySubmitted(Guid jobId) =>
        _submitted.TryGetValue(jobId, out var at) && time.GetElapsedTime(at) < ResubmitAfter;

    /// <summary>The runners (by the address their jobs are stored under) whose stream is carried: by this replica, or by
    /// another whose lease runs and that reported no failure. Stream rows are keyed by runner id, jobs by address.</summary>
    private async Task<HashSet<string>> CarriedAsync(ServerDbContext db, CancellationToken cancellationToken)
    {
        var carried = new HashSet<string>(StringComparer.Ordinal);
        var urls = runners.Streamed().ToDictionary(r => r.RunnerId, r => r.Url, StringComparer.Ordinal);
        foreach (var url in urls.Values.Where(streams.Carries))
        {
            carried.Add(url);
        }

        if (settings.DatabaseProvider != DatabaseProvider.Postgres)
        {
            return carried;
        }

        var now = await Replicas.JobLeases.DatabaseNowAsync(db, cancellationToken);
        var rows = await db.RunnerStreams
            .Where(r => r.Cursor != null && r.FailingSince == null && r.LeaseOwner != null)
            .Select(r => new { r.RunnerId, r.LeaseExpiresAt })
            .ToListAsync(cancellationToken);
        foreach (var row in rows.Where(r => r.LeaseExpiresAt > now))
        {
            if (urls.TryGetValue(row.RunnerId, out var url))
            {
                carried.Add(url);
            }
        }

        return carried;
    }
}
