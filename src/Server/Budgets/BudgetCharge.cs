using System.Globalization;
using System.Text;
using LogQuota.Server.Data;
using LogQuota.Shared.Contracts;

namespace LogQuota.Server.Budgets;

/// <summary>A project's budget as one page is charged against it.</summary>
/// <param name="Project">The project's name, for the words.</param>
/// <param name="Limit">Bytes per hour (at least 1).</param>
/// <param name="Action">What happens at the crossing.</param>
/// <param name="WarnAt">Warning percentages (the server's <c>DSTACK_SERVER_LOG_QUOTA_WARN_AT</c>).</param>
internal sealed record BudgetRule(string Project, long Limit, LogQuotaAction Action, IReadOnlyList<int> WarnAt);

/// <summary>An event the charge raised: for the run that carried it, and for the project too when <paramref name="ProjectWide"/>.</summary>
internal sealed record BudgetEvent(string Type, string Message, bool ProjectWide);

/// <summary>What to store of a page, the events it raised, and whether the job must be killed.</summary>
internal sealed record BudgetOutcome(IReadOnlyList<LogEvent> Logs, IReadOnlyList<BudgetEvent> Events, bool Kill);

/// <summary>
/// Charges one page of a job's log events against its project's hour (the row, locked by the caller) with the per-job
/// quota's rules: the bytes that fit are stored, cut at the last whole line; the warnings of <c>WARN_AT</c> once per hour;
/// at the crossing <c>kill</c> stops storing the job and has it killed, <c>truncate</c> stops storing every job of the
/// project until the hour ends (a marker once per job), <c>observe</c> only records. Markers are log events of source
/// <c>runner</c>, never counted. The hour's evidence, when passed, counts every line of job output, the stored bytes
/// of each minute and the dropped text. Only the objects passed in change; the caller commits them with the page.
/// </summary>
internal static class BudgetCharge
{
    public static BudgetOutcome Apply(
        BudgetRule rule, ProjectBudgetHourEntity hour, JobEntity job, IReadOnlyList<LogEvent> logs, long? endedAt, DateTimeOffset now,
        HourEvidence? evidence = null)
    {
        ArgumentNullException.ThrowIfNull(rule);
        ArgumentNullException.ThrowIfNull(hour);
        ArgumentNullException.ThrowIfNull(job);
        ArgumentNullException.ThrowIfNull(logs);
        var page = new Page(rule, hour, job, now, evidence);
        if (job.BudgetDroppingHour is { } dropping && dropping < hour.HourStart && logs.Count > 0)
        {
            page.Resume(logs[0].Timestamp);
        }

        foreach (var log in logs)
        {
            page.Offer(log);
        }

        if (endedAt is { } end)
        {
            page.ReportDrops(end);
        }

        return new BudgetOutcome(page.Kept, page.Events, page.Kill);
    }

    /// <summary>The bytes of <paramref name="text"/> to store when only <paramref name="allowed"/> fit: up to its last
    /// whole line within them, or, in an hour that holds nothing yet, up to a whole UTF-8 character.</summary>
    internal static int Cut(ReadOnlySpan<byte> text, long allowed, bool hourEmpty)
    {
        if (allowed >= text.Length)
        {
            return text.Length;
        }

        if (allowed <= 0)
        {
            return 0;
        }

        var fit = (int)allowed;
        var newline = text[..fit].LastIndexOf((byte)'\n');
        if (newline >= 0)
        {
            return newline + 1;
        }

        if (!hourEmpty)
        {
            return 0;
        }

        // A UTF-8 character's continuation bytes are 10xxxxxx: back up to the start of the character the cut falls in.
        while (fit > 0 && (text[fit] & 0xC0) == 0x80)
        {
            fit--;
        }

        return fit;
    }

    private sealed class Page(BudgetRule rule, ProjectBudgetHourEntity hour, JobEntity job, DateTimeOffset now, HourEvidence? evidence)
    {
        public List<LogEvent> Kept { get; } = [];

        public List<BudgetEvent> Events { get; } = [];

        public bool Kill { get; private set; }

        private DateTimeOffset ResetsAt => hour.HourStart.AddHours(1);

        private bool Dropping => job.BudgetDroppingHour == hour.HourStart;

        private string ActionWord => WireNames.Of(rule.Action);

        public void Offer(LogEvent log)
        {
            if (log.LogSource != LogSource.Stdout)
            {
                Kept.Add(log);
                return;
            }

            evidence?.Wrote(log.Message, job.RunId);
            if (Dropping)
            {
                Drop(log.Message);
                return;
            }

            var message = log.Message;
            var keep = rule.Action.DropsOutput() ? Cut(message, rule.Limit - hour.UsedBytes, hour.UsedBytes == 0) : message.Length;
            if (keep > 0)
            {
                Kept.Add(keep == message.Length ? log : log with { Message = message[..keep] });
                hour.UsedBytes += keep;
                evidence?.Stored(keep, now - hour.HourStart);
            }

            Warn(log.Timestamp);
            if (keep < message.Length)
            {
                Drop(message.AsSpan(keep));
                Stop(log.Timestamp);
            }
            else if (!rule.Action.DropsOutput() && hour.UsedBytes > rule.Limit && hour.ExceededAt is null)
            {
                Cross(log.Timestamp, "observe only: nothing is dropped");
            }
        }

        /// <summary>The job's output no longer fits: it is dropped from here on in this hour (and the job killed, for <c>kill</c>).</summary>
        private void Stop(long timestamp)
        {
            job.BudgetDroppingHour = hour.HourStart;
            if (rule.Action.Kills())
            {
                Kill = job.StopReason is null;
                Cross(timestamp, "the job is being killed");
                return;
            }

            Cross(timestamp, $"output of every job of the project is dropped until {QuotaText.Clock(ResetsAt)}");
        }

        /// <summary>Marks the crossing in the job's log and its run's events; the hour's first crossing is the project's event too.</summary>
        private void Cross(long timestamp, string consequence)
        {
            var first = hour.ExceededAt is null;
            hour.ExceededAt ??= now;
            var message = $"log budget of project {rule.Project} ({QuotaText.Bytes(rule.Limit)}) for this hour reached; {consequence}";
            Marker(timestamp, message);
            Events.Add(new BudgetEvent(
                BudgetEventTypes.LogBudgetExceeded,
                string.Create(CultureInfo.InvariantCulture, $"{message} ({rule.Limit} bytes, action: {ActionWord})"),
                ProjectWide: first));
        }

        private void Warn(long timestamp)
        {
            var reached = 0;
            foreach (var percent in rule.WarnAt)
            {
                if (percent > hour.WarnedPercent && QuotaShare.Reached(hour.UsedBytes, percent, rule.Limit))
                {
                    reached = Math.Max(reached, percent);
                }
            }

            if (reached == 0)
            {
                return;
            }

            hour.WarnedPercent = reached;
            var used = hour.UsedBytes;
            var share = QuotaShare.Percent(used, rule.Limit);
            var threshold = share == reached ? "" : string.Create(CultureInfo.InvariantCulture, $" (warning at {reached}%)");
            var elapsed = Math.Max(1, (now - hour.HourStart).TotalSeconds);
            var rate = used / elapsed;
            var left = TimeSpan.FromSeconds(Math.Min(Math.Max(0, rule.Limit - used) / Math.Max(rate, 1e-9), 86_400));
            var when = now + left >= ResetsAt
                ? $"at this hour's rate ({QuotaText.Bytes(rate)}/s) it lasts until the reset"
                : $"at this hour's rate ({QuotaText.Bytes(rate)}/s) it is exhausted in {QuotaText.Duration(left)}";
            var message = string.Create(CultureInfo.InvariantCulture,
                $"{share}% of project {rule.Project}'s log budget used{threshold}: {used} of {rule.Limit} bytes ({QuotaText.Bytes(used)} of {QuotaText.Bytes(rule.Limit)}) this hour; {when}; the budget resets at {QuotaText.Clock(ResetsAt)} (action: {ActionWord})");
            Marker(timestamp, "warning: " + message);
            Events.Add(new BudgetEvent(BudgetEventTypes.LogBudgetWarning, message, ProjectWide: true));
        }

        /// <summary>A new hour: the drops of the job's last dropping hour are reported, and its output is stored again.</summary>
        public void Resume(long timestamp)
        {
            ReportDrops(timestamp);
            job.BudgetDroppingHour = null;
            Marker(timestamp, $"a new hour of the log budget began at {QuotaText.Clock(hour.HourStart)}; output is stored again");
        }

        /// <summary>Under <c>truncate</c>, says how much of the job's output the budget dropped (once).</summary>
        public void ReportDrops(long timestamp)
        {
            if (job.BudgetDroppedBytes == 0 || !rule.Action.KeepsTail())
            {
                return;
            }

            var dropped = string.Create(CultureInfo.InvariantCulture,
                $"{job.BudgetDroppedBytes} bytes ({job.BudgetDroppedLines} lines) were dropped by the log budget of project {rule.Project}");
            Marker(timestamp, dropped);
            Events.Add(new BudgetEvent(JobEventTypes.LogTruncated, $"{dropped} in the hour from {QuotaText.Clock(job.BudgetDroppingHour ?? hour.HourStart)}", ProjectWide: false));
            job.BudgetDroppedBytes = 0;
            job.BudgetDroppedLines = 0;
        }

        private void Drop(ReadOnlySpan<byte> text)
        {
            hour.DroppedBytes += text.Length;
            job.BudgetDroppedBytes += text.Length;
            job.BudgetDroppedLines += text.Count((byte)'\n');
            evidence?.Dropped(text, job.RunId);
        }

        /// <summary>
        /// One marker line, of source <c>runner</c>, at the timestamp of the event it is about (a log's order is its
        /// timestamps, then the order stored): after the part of that event that was stored.
        /// </summary>
        private void Marker(long timestamp, string message) =>
            Kept.Add(new LogEvent(timestamp, Encoding.UTF8.GetBytes(QuotaText.MarkerPrefix + message + "\n"), LogSource.Runner));
    }
}
