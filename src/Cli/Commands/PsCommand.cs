using System.CommandLine;
using LogQuota.Cli.Formatting;
using LogQuota.Shared.Contracts;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace LogQuota.Cli.Commands;

/// <summary><c>ps [-a] [-v]</c>: the runs as a table, like <c>dstack ps</c>.</summary>
public static class PsCommand
{
    /// <summary>Without <c>-a</c>, finished runs stay listed this long after they ended.</summary>
    public static readonly TimeSpan RecentlyFinished = TimeSpan.FromHours(1);

    /// <summary>Creates the command.</summary>
    public static Command Create(CommandHost host)
    {
        ArgumentNullException.ThrowIfNull(host);
        var all = new Option<bool>("--all", "-a") { Description = "Show all runs, not only active ones and those finished in the last hour" };
        var verbose = new Option<bool>("--verbose", "-v") { Description = "Also show ERROR, QUOTA, LOGS/HOUR and USED (%)" };
        var command = new Command("ps", "List runs") { all, verbose };
        command.SetAction((parse, cancellationToken) => host.RunAsync(
            parse,
            runName: null,
            async (api, token) =>
            {
                var runs = await api.ListRunsAsync(token);
                var now = host.Console.Time.GetUtcNow();
                var shown = parse.GetValue(all) ? runs : [.. runs.Where(r => IsShownByDefault(r, now))];
                host.Console.Write(BuildTable(shown, now, parse.GetValue(verbose)));
                return 0;
            },
            cancellationToken));
        return command;
    }

    /// <summary>True for a run that is still active or finished within <see cref="RecentlyFinished"/>.</summary>
    public static bool IsShownByDefault(RunRow run, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(run);
        return !run.Status.IsFinished() || now - (run.FinishedAt ?? run.SubmittedAt) <= RecentlyFinished;
    }

    /// <summary>The table: NAME, STATUS, SUBMITTED, and with <paramref name="verbose"/> ERROR, QUOTA, LOGS/HOUR, USED.</summary>
    public static Table BuildTable(IEnumerable<RunRow> runs, DateTimeOffset now, bool verbose)
    {
        ArgumentNullException.ThrowIfNull(runs);
        var table = new Table { Border = TableBorder.None, ShowHeaders = true };
        string[] headers = verbose
            ? ["NAME", "STATUS", "SUBMITTED", "ERROR", "QUOTA", "LOGS/HOUR", "USED"]
            : ["NAME", "STATUS", "SUBMITTED"];
        foreach (var header in headers)
        {
            // No left padding: the first column starts at the margin, as in dstack ps and kubectl get.
            table.AddColumn(new TableColumn(new Text(header, new Style(decoration: Decoration.Bold))) { Padding = new Padding(0, 0, 3, 0) });
        }

        foreach (var run in runs)
        {
            var rowStyle = StatusColors.HighlightsRow(run.Status) ? new Style(Color.Red) : Style.Plain;
            var statusStyle = StatusColors.For(run.Status) is { } color ? new Style(color) : rowStyle;
            List<IRenderable> cells =
            [
                new Text(run.RunName, rowStyle),
                new Text(run.StatusMessage, statusStyle),
                new Text(RelativeTime.Format(run.SubmittedAt, now), rowStyle),
            ];
            if (verbose)
            {
                cells.Add(new Text(run.Error ?? (run.LogTruncated ? "log truncated" : ""), rowStyle));
                cells.Add(new Text(ByteSize.FormatQuota(run.LogQuotaHour), rowStyle));
                cells.Add(new Text(ByteSize.Format(run.LogBytesHour), rowStyle));
                cells.Add(new Text(QuotaView.Share(run.LogBytesHour, run.LogQuotaHour), rowStyle));
            }

            table.AddRow(cells);
        }

        return table;
    }
}
