using System.CommandLine;
using LogQuota.Cli.Formatting;
using LogQuota.Shared.Contracts;

namespace LogQuota.Cli.Commands;

/// <summary><c>show RUN</c>: the run's details: status, error, the quota block (usage bar, action, reset time, drops,
/// top repeated lines) and the events.</summary>
public static class ShowCommand
{
    /// <summary>Creates the command.</summary>
    public static Command Create(CommandHost host)
    {
        ArgumentNullException.ThrowIfNull(host);
        var run = new Argument<string>("RUN") { Description = "The run's name" };
        var command = new Command("show", "Show a run's details: status, quota usage and evidence, events") { run };
        command.SetAction((parse, cancellationToken) =>
        {
            var runName = parse.GetRequiredValue(run);
            var project = host.ProjectOf(parse);
            return host.RunAsync(
                parse,
                runName,
                async (api, token) =>
                {
                    var details = await api.GetRunAsync(project, runName, token);
                    foreach (var line in Format(details, host.Console.Time.GetUtcNow()))
                    {
                        await host.Console.OutputText.WriteLineAsync(line);
                    }

                    await host.Console.OutputText.FlushAsync(token);
                    return 0;
                },
                cancellationToken);
        });
        return command;
    }

    /// <summary>What <c>show</c> prints, line by line.</summary>
    public static IEnumerable<string> Format(RunDetails run, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(run);
        yield return $"run:        {run.RunName}";
        yield return $"status:     {RunSummary.StatusName(run.Status)} ({run.StatusMessage})" + (run.LogTruncated ? ", log truncated" : "");
        if (run.Error is not null)
        {
            yield return $"error:      {run.Error}" + (string.IsNullOrWhiteSpace(run.TerminationMessage) ? "" : $" ({run.TerminationMessage})");
        }

        if (run.Waiting is not null)
        {
            yield return $"waiting:    {QuotaView.Printable(run.Waiting, int.MaxValue)}";
        }

        yield return $"submitted:  {RelativeTime.Format(run.SubmittedAt, now)}" +
            (run.FinishedAt is { } finished ? $", finished {RelativeTime.Format(finished, now)}" : "");
        foreach (var line in QuotaView.Section(run.LogQuota, run.LogQuotaHour))
        {
            yield return line;
        }

        yield return run.Events.Count == 0 ? "events:     none" : "events:";
        foreach (var e in run.Events)
        {
            yield return $"  {QuotaView.Clock(e.Timestamp)}  {e.Type,-18}  {QuotaView.Printable(e.Message, int.MaxValue)}";
        }
    }
}
