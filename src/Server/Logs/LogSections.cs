using LogQuota.Server.Data;
using LogQuota.Server.Processing;
using LogQuota.Shared.Contracts;

namespace LogQuota.Server.Logs;

/// <summary>
/// A job's folds, built from its section marks: each section's lines, times and duration, and which one failed. A
/// section with no end mark runs to the end of the log; once the job has ended it ends with the job, and when the job
/// did not succeed (failed, terminated, aborted) the innermost such section — the one the job was in when it ended —
/// is the failing one, shown open with the sections around it whatever its marker asked.
/// </summary>
public static class LogSections
{
    public static List<LogSection> Build(IEnumerable<LogSectionMarkEntity> marks, JobStatus status, DateTimeOffset? finishedAt, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(marks);
        var sections = new List<LogSection>();
        var byId = new Dictionary<int, int>();
        foreach (var m in marks)
        {
            var at = DateTimeOffset.FromUnixTimeMilliseconds(m.Timestamp);
            switch (m.Kind)
            {
                case LogSectionMarkKind.Start when !byId.ContainsKey(m.Section):
                    byId[m.Section] = sections.Count;
                    var name = m.Name ?? "";
                    sections.Add(new LogSection(m.Section, m.Parent, m.Format ?? LogSectionFormat.Gitlab, name,
                        string.IsNullOrEmpty(m.Title) ? name : m.Title, m.Line, null, at, null, 0, m.Collapsed, false));
                    break;
                case LogSectionMarkKind.End when byId.TryGetValue(m.Section, out var index) && sections[index].EndedAt is null:
                    sections[index] = sections[index] with { EndLine = Math.Max(m.Line, sections[index].StartLine), EndedAt = at };
                    break;
                case LogSectionMarkKind.Expand when byId.TryGetValue(m.Section, out var index):
                    sections[index] = sections[index] with { Collapsed = false };
                    break;
            }
        }

        var ended = status.IsFinal();
        var failing = -1;
        for (var i = 0; i < sections.Count; i++)
        {
            if (sections[i].EndedAt is not null)
            {
                sections[i] = sections[i] with { DurationMs = Milliseconds(sections[i].EndedAt!.Value - sections[i].StartedAt) };
                continue;
            }

            var end = ended ? finishedAt ?? now : (DateTimeOffset?)null;
            sections[i] = sections[i] with { EndedAt = end, DurationMs = Milliseconds((end ?? now) - sections[i].StartedAt) };
            failing = i;
        }

        if (ended && status != JobStatus.Done && failing >= 0)
        {
            sections[failing] = sections[failing] with { Failed = true };
            for (int? open = sections[failing].Id; open is { } id && byId.TryGetValue(id, out var index); open = sections[index].Parent)
            {
                sections[index] = sections[index] with { Collapsed = false };
            }
        }

        return sections;
    }

    private static long Milliseconds(TimeSpan span) => Math.Max(0, (long)span.TotalMilliseconds);
}
