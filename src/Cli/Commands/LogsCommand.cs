using System.CommandLine;
using LogQuota.Cli.Connection;
using LogQuota.Cli.Logs;
using LogQuota.Shared.Contracts;

namespace LogQuota.Cli.Commands;

/// <summary><c>logs RUN [-f] [--source job|runner|all]</c>: the stored log, byte for byte; <c>-f</c> keeps following until
/// the run ends, drawing the live region below the stored lines when standard output is a terminal; <c>--grep</c> prints
/// the matching lines with their numbers; <c>--sections</c> lists the log's folds.</summary>
public static class LogsCommand
{
    /// <summary>Creates the command.</summary>
    public static Command Create(CommandHost host)
    {
        ArgumentNullException.ThrowIfNull(host);
        var run = new Argument<string>("RUN") { Description = "The run's name" };
        var follow = new Option<bool>("--follow", "-f") { Description = "Keep printing new output until the run ends" };
        var source = new Option<string>("--source")
        {
            Description = "job: the job's output only; runner: only the [logquota] lines the runner wrote; all (the default): both, in order",
            DefaultValueFactory = _ => "all",
        };
        source.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<string>() is var value && !WireNames.TryParse<LogSourceFilter>(value, out _))
            {
                result.AddError($"--source must be {WireNames.Alternatives<LogSourceFilter>()}; got '{value}'");
            }
        });
        var timestamps = new Option<bool>("--timestamps") { Description = "Start each line with the time it was stored (UTC)" };
        var grep = new Option<string>("--grep") { Description = "Print only the lines containing PATTERN (any case), as NUMBER:LINE", HelpName = "PATTERN" };
        var regex = new Option<bool>("--regex") { Description = "With --grep: PATTERN is a .NET regular expression" };
        var matchCase = new Option<bool>("--match-case") { Description = "With --grep: upper and lower case differ" };
        var sections = new Option<bool>("--sections") { Description = "Print the log's sections (folds) instead: lines, duration and title, one a line" };
        var command = new Command("logs", "Print a run's log") { run, follow, source, timestamps, grep, regex, matchCase, sections };
        command.Validators.Add(result =>
        {
            var grepping = result.GetResult(grep) is not null;
            if (result.GetValue(sections) && (grepping || result.GetValue(follow) || result.GetValue(timestamps) || result.GetResult(source) is { Implicit: false }))
            {
                result.AddError("--sections lists the log's folds: it cannot be used with --grep, --follow, --source or --timestamps");
            }
            else if (grepping && (result.GetValue(follow) || result.GetValue(timestamps) || result.GetResult(source) is { Implicit: false }))
            {
                result.AddError("--grep searches the whole stored log: it cannot be used with --follow, --source or --timestamps");
            }
            else if (!grepping && (result.GetValue(regex) || result.GetValue(matchCase)))
            {
                result.AddError("--regex and --match-case apply to --grep PATTERN");
            }
        });
        command.SetAction((parse, cancellationToken) =>
        {
            var runName = parse.GetRequiredValue(run);
            var project = host.ProjectOf(parse);
            var only = parse.GetValue(source) is var chosen && chosen != WireNames.Of(LogSourceFilter.All) ? chosen : null;
            var view = new LogView(host.Console.UsesColor, parse.GetValue(timestamps));
            return host.RunAsync(
                parse,
                runName,
                async (api, token) =>
                {
                    if (parse.GetValue(sections))
                    {
                        return await LogSectionsList.PrintAsync(api, project, runName, host.Console.Output, token);
                    }

                    if (parse.GetValue(grep) is { } pattern)
                    {
                        return await LogGrep.PrintAsync(api, project, runName, pattern, parse.GetValue(regex), parse.GetValue(matchCase), host.Console.Output, token);
                    }

                    if (parse.GetValue(follow))
                    {
                        // The live region is drawn while following only: a plain read prints what is stored.
                        using var follower = new LogFollower(api, project, runName, host.Console.Output, LiveRegionDrawer.For(host.Console), source: only, view: view);
                        using var resized = host.Console.Resizes.Subscribe(follower.Resized);
                        try
                        {
                            await follower.FollowAsync(host.Console.Time, token);
                            await follower.EraseLiveAsync(token);
                            return 0;
                        }
                        finally
                        {
                            // Ctrl-C or a lost server: the last view stays, and what follows starts on a row of its own.
                            await follower.LeaveLiveAsync(CancellationToken.None);
                        }
                    }

                    // The text endpoint streams the stored bytes in order: a log of any size passes through
                    // without being held in memory, decoded or re-encoded.
                    using var response = await api.GetLogsTextAsync(
                        project, runName, only, view.Colour ? "ansi" : "text", view.Timestamps ? true : null, token);
                    if (!response.IsSuccessStatusCode)
                    {
                        var body = await response.Content.ReadAsStringAsync(token);
                        throw new ServerAnswerException(response.StatusCode, body);
                    }

                    await using var stream = await response.Content.ReadAsStreamAsync(token);
                    await stream.CopyToAsync(host.Console.Output, token);
                    await host.Console.Output.FlushAsync(token);
                    return 0;
                },
                cancellationToken);
        });
        return command;
    }
}
