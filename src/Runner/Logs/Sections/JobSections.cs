using LogQuota.Runner.Jobs;
using LogQuota.Shared.Contracts;

namespace LogQuota.Runner.Logs.Sections;

/// <summary>
/// The sections of one job's log: which are open, nested in which, and the marks that record them in the job's journal
/// (each before the next stored line). A hostile job's markers cost bounded memory and storage: at most
/// <see cref="MaxSections"/> sections, <see cref="MaxDepth"/> deep, names of <see cref="GitlabMarkers.MaxName"/> and
/// titles of <see cref="MaxTitle"/> characters; past a bound a marker is still taken out of the text but makes no
/// section, and the job gets one <c>log_sections_limited</c> event. Not thread-safe: the job's lock guards every call.
/// </summary>
/// <remarks>
/// GitLab's sections nest, and an end closes the innermost open section of its name and those inside it (an end with
/// no open section of its name is ignored). GitHub and Buildkite do not nest: a <c>::group::</c> while a GitHub group is
/// open ends that group first (as GitHub shows them, one after the other), and each Buildkite group ends the one
/// before; either nests inside an open GitLab section. Sections still open when the job ends stay open here: the
/// server closes them at the job's end and calls the innermost of a failed job the failing one.
/// </remarks>
internal sealed class JobSections(JobJournal journal)
{
    public const int MaxSections = 500;
    public const int MaxDepth = 10;
    public const int MaxTitle = 200;

    private readonly List<(int Id, LogSectionFormat Format, string Name)> _open = [];
    private readonly List<(string Name, bool Collapsed)> _pending = [];
    private int _count;
    private int _lastBuildkite;
    private int _expanded;
    private bool _limited;

    /// <summary>GitLab starts waiting for their header line (the next stored line), read from the raw output.</summary>
    public bool HasPending => _pending.Count > 0;

    /// <summary>A GitLab <c>section_start</c>: recorded before the next stored line, which is its header (<see cref="TakePending"/>).</summary>
    public void StartGitlab(string name, bool collapsed) => _pending.Add((name, collapsed));

    /// <summary>
    /// Records the waiting GitLab starts before the line about to be stored: the last one's title is that line
    /// (<paramref name="header"/>), the others' (started with no line of their own) their names.
    /// </summary>
    public void TakePending(string? header)
    {
        for (var i = 0; i < _pending.Count; i++)
        {
            var (name, collapsed) = _pending[i];
            var title = i == _pending.Count - 1 && !string.IsNullOrWhiteSpace(header) ? header : name;
            Start(LogSectionFormat.Gitlab, name, title, collapsed);
        }

        _pending.Clear();
    }

    /// <summary>A GitLab <c>section_end</c>.</summary>
    public void EndGitlab(string name)
    {
        TakePending(null);
        var at = _open.FindLastIndex(s => s.Format == LogSectionFormat.Gitlab && s.Name == name);
        if (at >= 0)
        {
            CloseFrom(at);
        }
    }

    /// <summary>A GitHub <c>::group::</c> or a Buildkite group line, whose <paramref name="title"/> is the rest of the line.</summary>
    public void StartGroup(LogSectionFormat format, string name, string title, bool collapsed)
    {
        TakePending(null);
        var open = _open.FindLastIndex(s => s.Format == format);
        if (open >= 0)
        {
            CloseFrom(open);
        }

        var id = Start(format, name, title, collapsed);
        if (format == LogSectionFormat.Buildkite && id > 0)
        {
            _lastBuildkite = id;
        }
    }

    /// <summary>A GitHub <c>::endgroup::</c>: ends the open GitHub group, if any.</summary>
    public void EndGithub()
    {
        TakePending(null);
        var open = _open.FindLastIndex(s => s.Format == LogSectionFormat.Github);
        if (open >= 0)
        {
            CloseFrom(open);
        }
    }

    /// <summary>Buildkite's <c>^^^ +++</c>: the last Buildkite group is shown open (recorded once per group, however often it is asked).</summary>
    public void ExpandBuildkite()
    {
        if (_lastBuildkite > 0 && _expanded != _lastBuildkite)
        {
            _expanded = _lastBuildkite;
            journal.RecordSection(LogSectionMarkKind.Expand, _lastBuildkite);
        }
    }

    /// <summary>The job has ended: GitLab starts still waiting for a header are recorded with their names.</summary>
    public void Finish() => TakePending(null);

    private int Start(LogSectionFormat format, string name, string title, bool collapsed)
    {
        if (_count >= MaxSections || _open.Count >= MaxDepth)
        {
            if (!_limited)
            {
                _limited = true;
                journal.RecordEvent(JobEventTypes.LogSectionsLimited,
                    $"The job's section markers passed a bound ({MaxSections} sections, {MaxDepth} deep): later ones past it are taken out of the log but make no fold");
            }

            return 0;
        }

        var id = ++_count;
        int? parent = _open.Count > 0 ? _open[^1].Id : null;
        _open.Add((id, format, name));
        journal.RecordSection(LogSectionMarkKind.Start, id, format, name, Bounded(title), parent, collapsed);
        return id;
    }

    private void CloseFrom(int index)
    {
        for (var i = _open.Count - 1; i >= index; i--)
        {
            journal.RecordSection(LogSectionMarkKind.End, _open[i].Id);
        }

        _open.RemoveRange(index, _open.Count - index);
    }

    /// <summary>
    /// A title as shown: one line, control characters out, at most <see cref="MaxTitle"/> characters, and escaped as its
    /// stored header line is when it would pass for one of the runner's <c>[logquota]</c> lines.
    /// </summary>
    public static string Bounded(string title)
    {
        var chars = title.Trim().Where(c => !char.IsControl(c)).Take(MaxTitle).ToArray();
        var length = chars.Length > 0 && char.IsHighSurrogate(chars[^1]) ? chars.Length - 1 : chars.Length;
        var bounded = new string(chars, 0, length);
        return bounded.StartsWith(QuotaText.MarkerPrefix, StringComparison.Ordinal) ? (char)ForgedMarkers.Escape + bounded : bounded;
    }
}
