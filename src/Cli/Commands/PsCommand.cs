using System.CommandLine;
using LogQuota.Cli.Formatting;
using LogQuota.Shared.Api;
using LogQuota.Shared.Contracts;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace LogQuota.Cli.Commands;

/// <summary><c>ps [-a] [-v] [-n N]</c>: the runs as a table, like <c>dstack ps</c>; filtering and paging happen on the server.</summary>
public static class PsCommand
{
    /// <summary>Rows shown without <c>-n</c>.</summary>
    public const int DefaultCount = 100;

    /// <summary>The server's largest page (SPEC §4 <c>limit</c>).</summary>
    private const int MaxPage = 1000;

    /// <summary>Creates the command.</summary>
    public static Command Create(CommandHost host)
    {
        ArgumentNullException.ThrowIfNull(host);
        var all = new Option<bool>("--all", "-a") { Description = "Show all runs, not only active ones (or the newest finished one when none is active)" };
        var verbose = new Option<bool>("--verbose", "-v") { Description = "Also show ERROR (or what a provisioning run waits for), QUOTA, LOGS/HOUR and USED (%)" };
        var count = new Option<int>("--last", "-n")
        {
            Description = $"Show at most the newest N runs (default {DefaultCount})",
            DefaultValueFactory = _ => DefaultCount,
        };
        count.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int>() < 1)
            {
                result.AddError($"-n must be a whole number of at least 1, got {result.GetValueOrDefault<int>()}");
            }
        });
        var command = new Command("ps", "List runs") { all, verbose, count };
        command.SetAction((parse, cancellationToken) => host.RunAsync(
            parse,
            runName: null,
            async (api, token) =>
            {
                var wanted = parse.GetValue(count);
                var (runs, more) = await FetchAsync(api, host.ProjectOf(parse), onlyActive: !parse.GetValue(all), wanted, token);
                if (runs.Count == 0 && !parse.GetValue(all))
                {
                    // As dstack ps: with nothing active, the newest finished run, so a run that just ended is still seen.
                    (runs, _) = await FetchAsync(api, host.ProjectOf(parse), onlyActive: false, 1, token);
                }

                var now = host.Console.Time.GetUtcNow();
                host.Console.Write(BuildTable(runs, now, parse.GetValue(verbose)));
                if (more)
                {
                    // On stderr: piped stdout stays the table alone.
                    await host.Console.Error.WriteLineAsync($"(the newest {runs.Count} runs; -n N shows more)");
                }

                return 0;
            },
            cancellationToken));
        return command;
    }

    /// <summary>Up to <paramref name="wanted"/> rows, newest first, in server pages; and whether the server holds more.</summary>
    public static async Task<(List<RunRow> Runs, bool More)> FetchAsync(
        IServerApi api, string project, bool onlyActive, int wanted, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(api);
        var runs = new List<RunRow>();
        string? next = null;
        do
        {
            var page = await api.ListRunsAsync(
                project,
                new RunsQuery { Limit = Math.Min(wanted - runs.Count, MaxPage), OnlyActive = onlyActive, NextToken = next }, cancellationToken);
            runs.AddRange(page.Runs);
            next = page.NextToken;
        }
        while (next is not null && runs.Count < wanted);

        return (runs, next is not null);
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
                cells.Add(new Text(run.Error ?? (run.LogTruncated ? "log truncated" : run.Waiting ?? ""), rowStyle));
                cells.Add(new Text(ByteSize.FormatQuota(run.LogQuotaHour), rowStyle));
                cells.Add(new Text(ByteSize.Format(run.LogBytesHour), rowStyle));
                cells.Add(new Text(QuotaView.Share(run.LogBytesHour, run.LogQuotaHour), rowStyle));
            }

            table.AddRow(cells);
        }

        return table;
    }
}
