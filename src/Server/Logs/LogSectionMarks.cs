using LogQuota.Server.Data;
using LogQuota.Server.Data.Configurations;
using LogQuota.Shared.Contracts;

namespace LogQuota.Server.Logs;

/// <summary>A pulled page's section marks into <c>log_section_marks</c>, checked: a runner's marks are bounded, and so is what is stored.</summary>
internal static class LogSectionMarks
{
    /// <summary>The most sections stored for one job (the runner makes at most 500).</summary>
    public const int MaxSections = 1000;

    /// <summary>Adds the marks to the tracked context; they commit with the page that carried them, so none is lost or repeated.</summary>
    public static void Add(ServerDbContext db, Guid jobId, IReadOnlyList<LogSectionMark>? marks)
    {
        foreach (var m in marks ?? [])
        {
            if (m.Section is < 1 or > MaxSections || m.Line < 1 || m.Parent is < 1 or > MaxSections)
            {
                continue;
            }

            db.LogSectionMarks.Add(new LogSectionMarkEntity
            {
                JobId = jobId,
                Timestamp = m.Timestamp,
                Kind = m.Kind,
                Section = m.Section,
                Line = m.Line,
                Format = m.Format,
                Name = Bounded(m.Name, LogSectionMarkEntityConfiguration.MaxName),
                Title = Bounded(m.Title, LogSectionMarkEntityConfiguration.MaxTitle),
                Parent = m.Parent,
                Collapsed = m.Collapsed,
            });
        }
    }

    private static string? Bounded(string? text, int max) => text is null || text.Length <= max ? text : text[..max];
}
