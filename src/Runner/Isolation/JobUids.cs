using System.Globalization;
using System.Text;
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
/// <remarks>
/// A start costs neither a scan nor a rewrite of the record (bench/RESULTS.md): the range is scanned for traces at the
/// first start, then at most every <see cref="ScanFresh"/> and when no uid looks free; <c>job-uids</c> is a journal a
/// start or an end appends a line to, compacted now and then.
/// </remarks>
internal sealed class JobUids
{
    /// <summary>Lines appended since the last compaction beyond which the journal is written afresh: this many, or four per uid held if more.</summary>
    internal const int CompactAfter = 1024;

    private readonly Lock _lock = new();
    private readonly HashSet<uint> _inUse = [];
    private readonly UidRange _range;
    private readonly string _stateFile;
    private readonly List<uint> _predecessorHeld = [];
    private uint _next;

    /// <summary>
    /// The uids of the range known to have something left: those the last scan (<see cref="UidTraces.Holders"/>) found,
    /// and those whose job's traces could not all be erased since. A uid the scan found clean stays clean while it is not
    /// in use: a uid of the range gains a process or a file only from a job this runner gives it (runners sharing a host
    /// have disjoint ranges), and a job's uid comes back only once its traces are erased. Null until the first start.
    /// </summary>
    private HashSet<uint>? _dirty;
    private long _scannedAt;

    /// <summary>
    /// How long a scan serves further starts. Not needed for this runner's own uids (above); a rescan now and then only
    /// narrows what two runners wrongly given overlapping ranges could share. A scan reads every process's status, so a
    /// scan per start made a burst of N starts cost N scans of N jobs' processes.
    /// </summary>
    private static readonly TimeSpan ScanFresh = TimeSpan.FromSeconds(30);

    /// <summary>The journal's length as this process wrote it; -1 until the first compaction.</summary>
    private long _journalLength = -1;
    private int _appended;

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
            var (killed, removed, _) = UidTraces.Erase(uid);
            erased.Add((uid, killed, removed));
        }

        lock (_lock)
        {
            _predecessorHeld.Clear();
            Compact();
        }

        return erased;
    }

    public uint Take()
    {
        lock (_lock)
        {
            var scanned = false;
            while (!scanned)
            {
                if (_dirty is null || Environment.TickCount64 - _scannedAt > ScanFresh.TotalMilliseconds)
                {
                    _dirty = UidTraces.Holders(_range);
                    _scannedAt = Environment.TickCount64;
                    scanned = true;
                }

                for (uint tried = 0; tried < _range.Count; tried++)
                {
                    var uid = _range.First + (_next++ % _range.Count);
                    if (_inUse.Contains(uid) || _dirty.Contains(uid))
                    {
                        // Held by a job, or something of an earlier job is left: handing it out would give that away.
                        continue;
                    }

                    _inUse.Add(uid);
                    Append(string.Create(CultureInfo.InvariantCulture, $"held {uid}\nnext {_next % _range.Count}\n"));
                    return uid;
                }

                // Every uid looked held as of an older scan: look again once.
                _dirty = null;
            }
        }

        throw new JobStartException($"Every uid of DSTACK_RUNNER_JOB_UIDS ({_range}) is held by a running job or has processes or files left");
    }

    /// <summary>Returns the uid of a job whose processes are gone, after removing its files in the shared directories.</summary>
    public void Release(uint uid)
    {
        var clean = false;
        try
        {
            clean = UidTraces.Erase(uid).Clean;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }

        lock (_lock)
        {
            // Left in place, a trace keeps the uid from being handed out until a scan finds it gone.
            if (!clean)
            {
                _dirty?.Add(uid);
            }

            _inUse.Remove(uid);
            Append(string.Create(CultureInfo.InvariantCulture, $"free {uid}\n"));
        }
    }

    /// <summary>Replays the journal: the last <c>next</c>, and the uids <c>held</c> and not <c>free</c>d since (a line cut
    /// short by a crash, with no line feed, is not read).</summary>
    private void Load()
    {
        string text;
        try
        {
            text = File.ReadAllText(_stateFile);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return;
        }

        var held = new HashSet<uint>();
        var lines = text.Split('\n');
        foreach (var fields in lines.Take(lines.Length - 1).Select(l => l.Split(' ', 2)))
        {
            if (fields.Length != 2 || !uint.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out var value))
            {
                continue;
            }

            switch (fields[0])
            {
                case "next":
                    _next = value % _range.Count;
                    break;
                case "held" when _range.Contains(value):
                    held.Add(value);
                    break;
                case "free":
                    held.Remove(value);
                    break;
            }
        }

        _predecessorHeld.AddRange(held.Order());
    }

    /// <summary>One line or two at the journal's end, in one write: a crash leaves it whole or not there.</summary>
    private void Append(string lines)
    {
        if (_journalLength < 0 || _appended > Math.Max(CompactAfter, 4 * (_inUse.Count + _predecessorHeld.Count)))
        {
            Compact();
        }

        // Opened for each line (two system calls): no handle outlives a call, whoever ends the runner.
        var bytes = Encoding.ASCII.GetBytes(lines);
        using (var journal = File.OpenHandle(_stateFile, FileMode.Open, FileAccess.Write))
        {
            RandomAccess.Write(journal, bytes, _journalLength);
        }

        _journalLength += bytes.Length;
        _appended += lines.Count(c => c == '\n');
    }

    /// <summary>The journal written afresh to a temporary file and renamed over the old one: a crash leaves one or the other.</summary>
    private void Compact()
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"next {_next % _range.Count}\n");
        foreach (var uid in _inUse.Concat(_predecessorHeld))
        {
            text.Append(CultureInfo.InvariantCulture, $"held {uid}\n");
        }

        var bytes = Encoding.ASCII.GetBytes(text.ToString());
        var temporary = _stateFile + ".tmp";
        File.WriteAllBytes(temporary, bytes);
        FileModes.Set(temporary, FileModes.PrivateFile);
        File.Move(temporary, _stateFile, overwrite: true);
        _journalLength = bytes.Length;
        _appended = 0;
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
