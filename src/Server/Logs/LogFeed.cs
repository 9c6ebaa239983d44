using System.Collections.Concurrent;

namespace LogQuota.Server.Logs;

/// <summary>
/// Tells the followers of a run (<c>GET /api/runs/{run_name}/logs?follow=true</c>) that something of it was stored: one
/// notification per commit, fanned out to every follower at once, and one read of the new events shared by all the
/// followers that ask for the same thing after it. So a hundred followers of one busy run cost one read per commit,
/// not a hundred polls.
/// </summary>
/// <remarks>
/// In-process: a follower on another replica than the one storing the run is not notified, and finds the new events
/// by reading again every <see cref="RecheckInterval"/> (<see cref="LogFeedInterceptor"/> notifies on this replica).
/// </remarks>
public sealed class LogFeed
{
    /// <summary>The longest a follower waits between two reads when nothing notifies it (another replica stores the run).</summary>
    public static readonly TimeSpan RecheckInterval = TimeSpan.FromSeconds(1);

    private readonly ConcurrentDictionary<Guid, RunFeed> _runs = new();

    /// <summary>Something of <paramref name="runId"/> was committed (log events, its state, its live region).</summary>
    public void Stored(Guid runId)
    {
        if (_runs.TryGetValue(runId, out var run))
        {
            run.Advance();
        }
    }

    /// <summary>Starts following <paramref name="runId"/>: from now on no commit of it goes unnoticed until disposed.</summary>
    public Follower Follow(Guid runId)
    {
        while (true)
        {
            var run = _runs.GetOrAdd(runId, _ => new RunFeed());
            if (run.Join())
            {
                return new Follower(this, runId, run);
            }

            // The run was being forgotten by its last follower as this one came: start over with a new one.
        }
    }

    /// <summary>One follower of one run; disposing it stops following (the run is forgotten with its last follower).</summary>
    public sealed class Follower : IDisposable
    {
        private readonly LogFeed _feed;
        private readonly Guid _runId;
        private readonly RunFeed _run;

        internal Follower(LogFeed feed, Guid runId, RunFeed run)
        {
            _feed = feed;
            _runId = runId;
            _run = run;
        }

        /// <summary>How many commits of the run this process has seen while it was followed: a follower's "where I am".</summary>
        public long Version => _run.Version;

        /// <summary>Waits until a commit after <paramref name="version"/>, or <paramref name="timeout"/>; true when one came.</summary>
        public async Task<bool> WaitAsync(long version, TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
        {
            var changed = _run.After(version);
            if (changed.IsCompleted)
            {
                return true;
            }

            try
            {
                await changed.WaitAsync(timeout, time, cancellationToken);
                return true;
            }
            catch (TimeoutException)
            {
                return false;
            }
        }

        /// <summary>
        /// The answer to a read as of <paramref name="version"/>: made once by <paramref name="read"/> for every follower of
        /// the run asking the same <paramref name="key"/> at the same version.
        /// </summary>
        public async Task<T> SharedAsync<T>(long version, string key, Func<Task<T>> read)
            where T : class
        {
            ArgumentNullException.ThrowIfNull(read);
            var shared = _run.Reads(version).GetOrAdd(key, _ => new Lazy<Task<object>>(async () => await read()));
            try
            {
                return (T)await shared.Value;
            }
            catch (Exception) when (!shared.Value.IsCompletedSuccessfully)
            {
                // The follower that started the read went away (its request was cancelled): this one reads for itself.
                return await read();
            }
        }

        public void Dispose() => _run.Leave(_feed._runs, _runId);
    }

    /// <summary>One followed run: its commit count, the task its waiters await, and the reads shared at the current version.</summary>
    internal sealed class RunFeed
    {
        private readonly object _gate = new();
        private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private ConcurrentDictionary<string, Lazy<Task<object>>> _reads = new(StringComparer.Ordinal);
        private long _readsVersion;
        private int _waiting;

        public long Version { get; private set; }

        public Task After(long version)
        {
            lock (_gate)
            {
                return Version > version ? Task.CompletedTask : _next.Task;
            }
        }

        /// <summary>False when the last follower has just left and the run is being forgotten.</summary>
        public bool Join()
        {
            lock (_gate)
            {
                if (_waiting < 0)
                {
                    return false;
                }

                _waiting++;
                return true;
            }
        }

        public void Advance()
        {
            TaskCompletionSource done;
            lock (_gate)
            {
                Version++;
                done = _next;
                _next = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }

            done.TrySetResult();
        }

        public ConcurrentDictionary<string, Lazy<Task<object>>> Reads(long version)
        {
            lock (_gate)
            {
                if (version > _readsVersion)
                {
                    _readsVersion = version;
                    _reads = new ConcurrentDictionary<string, Lazy<Task<object>>>(StringComparer.Ordinal);
                }

                // A follower still at an older version reads alone: the shared reads only move forward.
                return version == _readsVersion ? _reads : new ConcurrentDictionary<string, Lazy<Task<object>>>(StringComparer.Ordinal);
            }
        }

        /// <summary>A follower is done; the run is forgotten when no one follows it, so an unfollowed run costs nothing.</summary>
        public void Leave(ConcurrentDictionary<Guid, RunFeed> runs, Guid runId)
        {
            lock (_gate)
            {
                if (--_waiting == 0)
                {
                    _waiting = -1;
                    runs.TryRemove(new KeyValuePair<Guid, RunFeed>(runId, this));
                }
            }
        }
    }
}
