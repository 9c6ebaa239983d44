using LogQuota.Runner.Configuration;
using LogQuota.Runner.Execution;

namespace LogQuota.Runner.Isolation;

/// <summary>
/// Hands each job of a root runner a uid of its own from <c>DSTACK_RUNNER_JOB_UIDS</c>, never one another running job
/// of this runner holds. It walks the range round-robin from a start drawn from the runner's directory, so a uid comes
/// back only after the whole range was used (files a finished job left in /tmp stay out of the next jobs' reach that
/// long), and runners on different directories start far apart. The gid is the same number.
/// </summary>
internal sealed class JobUids(UidRange range, string runnerDir)
{
    private readonly Lock _lock = new();
    private readonly HashSet<uint> _inUse = [];
    private uint _next = (uint)(StableHash(runnerDir) % range.Count);

    public UidRange Range => range;

    public uint Take()
    {
        lock (_lock)
        {
            for (uint tried = 0; tried < range.Count; tried++)
            {
                var uid = range.First + (_next++ % range.Count);
                if (_inUse.Add(uid))
                {
                    return uid;
                }
            }
        }

        throw new JobStartException($"Every uid of DSTACK_RUNNER_JOB_UIDS ({range}) is held by a running job");
    }

    public void Release(uint uid)
    {
        lock (_lock)
        {
            _inUse.Remove(uid);
        }
    }

    /// <summary>FNV-1a: string.GetHashCode differs between processes, and the start must not.</summary>
    private static ulong StableHash(string text)
    {
        var hash = 14695981039346656037UL;
        foreach (var c in text)
        {
            hash = (hash ^ c) * 1099511628211UL;
        }

        return hash;
    }
}
