using System.Globalization;
using LogQuota.Runner.Configuration;
using LogQuota.Runner.Execution;

namespace LogQuota.Runner.Isolation;

/// <summary>
/// Hands each job of a root runner a uid of its own from <c>DSTACK_RUNNER_JOB_UIDS</c> (SPEC §7): never one another
/// running job of this runner holds, and never one that still has anything left (<see cref="UidTraces"/>: a process,
/// a file in /tmp, /var/tmp or /dev/shm). It walks the range round-robin; the position and the uids held are kept in
/// <c>job-uids</c> in the runner's directory, so a restarted runner goes on where its predecessor stopped, and first
/// erases what the predecessor's jobs left under the uids it held (their processes, found by uid whatever they did
/// to their environment, and their files). A fresh directory starts at a point drawn from its path, so runners on
/// different directories start far apart. The gid is the same number.
/// </summary>
internal sealed class JobUids
{
    private readonly Lock _lock = new();
    private readonly HashSet<uint> _inUse = [];
    private readonly UidRange _range;
    private readonly string _stateFile;
    private readonly List<uint> _predecessorHeld = [];
    private uint _next;

    /// <summary>
    /// The uids of the range with anything left (<see cref="UidTraces.Holders"/>) as of <see cref="_holdersAt"/>: one scan
    /// of /proc serves every start within <see cref="HoldersFresh"/>, where a scan per start made a burst of N starts cost
    /// N scans of N jobs' processes. A uid of the range gains a process only from a job this runner gives it (runners
    /// sharing a host have disjoint ranges), and such a uid is in use until its job's traces are erased, so a scan that
    /// found none for a uid not in use stays true.
    /// </summary>
    private HashSet<uint>? _holders;
    private long _holdersAt;

    /// <summary>How long a scan is used for further starts; a second bounds a burst to one scan a second.</summary>
    private static readonly TimeSpan HoldersFresh = TimeSpan.FromSeconds(1);

    public JobUids(UidRange range, string runnerDir)
    {
        _range = range;
        _stateFile = Path.Combine(runnerDir, "job-uids");
        _next = (uint)(StableHash(runnerDir) % range.Count);
        Load();
    }

    public UidRange Range => _range;

    /// <summary>
    /// Erases what the jobs of an earlier runner process on this directory left under the uids it held: their
    /// processes (also those that left their session, their PID namespace's parent or their environment marker) and
    /// their files. Called once at start-up, before any job starts.
    /// </summary>
    /// <returns>Each uid with the processes killed and entries removed.</returns>
    public List<(uint Uid, int Killed, int Removed)> ErasePredecessorsTraces()
    {
        var erased = new List<(uint, int, int)>();
        foreach (var uid in _predecessorHeld)
        {
            var (killed, removed) = UidTraces.Erase(uid);
            erased.Add((uid, killed, removed));
        }

        _predecessorHeld.Clear();
        Save();
        return erased;
    }

    public uint Take()
    {
        lock (_lock)
        {
            var fresh = false;
            while (!fresh)
            {
                if (_holders is null || Environment.TickCount64 - _holdersAt > HoldersFresh.TotalMilliseconds)
                {
                    _holders = UidTraces.Holders(_range);
                    _holdersAt = Environment.TickCount64;
                    fresh = true;
                }

                for (uint tried = 0; tried < _range.Count; tried++)
                {
                    var uid = _range.First + (_next++ % _range.Count);
                    if (_inUse.Contains(uid) || _holders.Contains(uid))
                    {
                        // Held by a job, or something of an earlier job is left: handing it out would give that away.
                        continue;
                    }

                    _inUse.Add(uid);
                    Save();
                    return uid;
                }

                // Every uid looked held as of an older scan: look again once.
                _holders = null;
            }
        }

        throw new JobStartException($"Every uid of DSTACK_RUNNER_JOB_UIDS ({_range}) is held by a running job or has processes or files left");
    }

    /// <summary>Returns the uid of a job whose processes are gone, after removing its files in the shared directories.</summary>
    public void Release(uint uid)
    {
        try
        {
            UidTraces.Erase(uid);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Left in place: Take skips the uid while its files remain.
        }

        lock (_lock)
        {
            _inUse.Remove(uid);
            Save();
        }
    }

    private void Load()
    {
        string[] lines;
        try
        {
            lines = File.ReadAllLines(_stateFile);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return;
        }

        foreach (var fields in lines.Select(l => l.Split(' ', 2)))
        {
            if (fields.Length == 2 && uint.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out var value))
            {
                if (fields[0] == "next")
                {
                    _next = value % _range.Count;
                }
                else if (fields[0] == "held" && _range.Contains(value))
                {
                    _predecessorHeld.Add(value);
                }
            }
        }
    }

    /// <summary>Written whole to a temporary file and renamed over the old one: a crash leaves one or the other.</summary>
    private void Save()
    {
        var lines = new List<string> { string.Create(CultureInfo.InvariantCulture, $"next {_next % _range.Count}") };
        lines.AddRange(_inUse.Concat(_predecessorHeld).Select(u => string.Create(CultureInfo.InvariantCulture, $"held {u}")));
        var temporary = _stateFile + ".tmp";
        File.WriteAllLines(temporary, lines);
        FileModes.Set(temporary, FileModes.PrivateFile);
        File.Move(temporary, _stateFile, overwrite: true);
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
