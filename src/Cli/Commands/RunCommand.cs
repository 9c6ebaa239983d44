using System.CommandLine;
using System.CommandLine.Parsing;
using LogQuota.Cli.Connection;
using LogQuota.Cli.Formatting;
using LogQuota.Cli.Logs;
using LogQuota.Cli.Parsing;
using LogQuota.Cli.Terminal;
using LogQuota.Shared.Api;
using LogQuota.Shared.Contracts;

namespace LogQuota.Cli.Commands;

/// <summary>
/// <c>run [--name N] [--log-quota BYTES] [--log-quota-action A] [--log-quota-kill-grace S] [--max-duration S] [-e K=V]...
/// [--no-tty] [--columns N] [--code DIR | --no-code] [--working-dir DIR] [--cpus N] [--memory SIZE] [--gpus N] -- CMD...</c>: sends the code (the current directory by
/// default), submits a run and streams its log until it ends (the runner's quota lines on stderr); exits 0 only when
/// it ended <c>done</c>.
/// </summary>
public static class RunCommand
{
    /// <summary>Creates the command.</summary>
    public static Command Create(CommandHost host)
    {
        ArgumentNullException.ThrowIfNull(host);
        var name = new Option<string?>("--name", "-n") { Description = "Run name (^[a-z][a-z0-9-]{0,40}$); generated when omitted", HelpName = "NAME" };
        name.Validators.Add(RunNameArgument.Validate);
        var logQuota = new Option<long?>("--log-quota")
        {
            Description = "Hourly log quota in bytes (1048576, 512KiB, 50MiB); at most the server's",
            HelpName = "BYTES",
            CustomParser = ParseLogQuota,
        };
        var action = new Option<string?>("--log-quota-action")
        {
            Description = "At the quota: kill (the server's default unless set otherwise), truncate (drop output until the hour ends) or observe (only record it)",
            HelpName = "ACTION",
        };
        action.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<string?>() is { } value && !WireNames.TryParse<LogQuotaAction>(value, out _))
            {
                result.AddError($"--log-quota-action must be {WireNames.Alternatives<LogQuotaAction>()}; got '{value}'");
            }
        });
        var killGrace = new Option<int?>("--log-quota-kill-grace")
        {
            Description = "Seconds between SIGTERM and SIGKILL at a quota kill, so the job can save a checkpoint (0-3600; default 0)",
            HelpName = "S",
        };
        killGrace.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int?>() is < 0 or > JobSpecRules.MaxKillGraceSeconds)
            {
                result.AddError($"--log-quota-kill-grace must be a whole number of seconds from 0 to {JobSpecRules.MaxKillGraceSeconds}");
            }
        });
        var maxDuration = new Option<int?>("--max-duration")
        {
            Description = "Stop the run after this long: seconds, or 90m, 2h, 1d",
            HelpName = "S",
            CustomParser = ParseMaxDuration,
        };
        var env = new Option<string[]>("--env", "-e")
        {
            Description = "Environment variable for the job; repeat for more",
            HelpName = "KEY=VALUE",
            Arity = ArgumentArity.ZeroOrMore,
            AllowMultipleArgumentsPerToken = false,
        };
        env.Validators.Add(result =>
        {
            if (!EnvironmentArguments.TryParse(result.Tokens.Select(t => t.Value), out _, out var error))
            {
                result.AddError(error!);
            }
        });
        var secret = new Option<string[]>("--secret")
        {
            Description = "A secret of the project the job gets as an environment variable of that name (masked as *** in its log); repeat for more",
            HelpName = "NAME",
            Arity = ArgumentArity.ZeroOrMore,
            AllowMultipleArgumentsPerToken = false,
        };
        var noTty = new Option<bool>("--no-tty") { Description = "Run on a pipe instead of a pseudo-terminal" };
        var columns = new Option<int?>("--columns")
        {
            Description = $"Width of the job's terminal in characters ({JobSpecRules.MinColumns}-{JobSpecRules.MaxColumns}; default {JobSpecRules.DefaultColumns})",
            HelpName = "N",
            CustomParser = ParseColumns,
        };
        var commandWords = new Argument<string[]>("CMD")
        {
            Description = "The command, after --: one word is a shell command line, several are one command and its arguments",
            Arity = ArgumentArity.OneOrMore,
        };

        var code = new CodeOptions();
        var resources = new ResourceOptions();
        var command = new Command("run", "Send the current directory as the job's code, submit a run and stream its log until it ends")
        {
            name, logQuota, action, killGrace, maxDuration, env, secret, noTty, columns,
        };
        code.AddTo(command);
        resources.AddTo(command);
        command.Arguments.Add(commandWords);
        command.SetAction(async (parse, cancellationToken) =>
        {
            if (FindStrayOption(parse) is { } stray)
            {
                await host.WriteErrorAsync($"unknown option '{stray}' for run (the job's own options go after --: logquota run [OPTIONS] -- CMD...)");
                return CliException.UsageExitCode;
            }

            // Already validated while parsing: a bad -e never reaches this action.
            var variables = EnvironmentArguments.TryParse(parse.GetValue(env) ?? [], out var parsed, out _) ? parsed : [];
            var request = new SubmitRunRequest(
                Commands: [CommandWords.ToCommandLine(parse.GetRequiredValue(commandWords))],
                RunName: parse.GetValue(name),
                Env: variables.Count > 0 ? variables : null,
                MaxDuration: parse.GetValue(maxDuration),
                LogQuotaHour: parse.GetValue(logQuota),
                Tty: parse.GetValue(noTty) ? false : null,
                LogQuotaAction: WireNames.TryParse<LogQuotaAction>(parse.GetValue(action), out var chosen) ? chosen : null,
                LogQuotaKillGrace: parse.GetValue(killGrace),
                WorkingDir: parse.GetValue(code.WorkingDir),
                Resources: resources.From(parse),
                Columns: parse.GetValue(columns),
                Secrets: parse.GetValue(secret) is { Length: > 0 } secrets ? secrets : null);
            var quotaAsTyped = parse.GetResult(logQuota)?.Tokens is [.., var typed] ? typed.Value : null;
            return await host.RunAsync(
                parse,
                request.RunName,
                async (api, token) =>
                {
                    var withCode = request with { CodeHash = await code.SendAsync(parse, host.Console, api, token) };
                    return await QuotaRefusal.InCliTermsAsync(() => SubmitAndStreamAsync(api, host, host.ProjectOf(parse), withCode, token), quotaAsTyped);
                },
                cancellationToken);
        });
        return command;
    }

    /// <summary>
    /// A word of CMD that looks like an option but came before <c>--</c>: a mistyped option of <c>run</c>
    /// (<c>--nmae x</c>) that System.CommandLine would otherwise quietly pass to the job as part of its command.
    /// </summary>
    public static string? FindStrayOption(ParseResult parse)
    {
        ArgumentNullException.ThrowIfNull(parse);
        var commandTokens = parse.CommandResult.Tokens;
        foreach (var token in parse.Tokens)
        {
            if (token.Type == TokenType.DoubleDash)
            {
                return null;
            }

            if (token.Value.Length > 1 && token.Value[0] == '-' && commandTokens.Any(t => ReferenceEquals(t, token)))
            {
                return token.Value;
            }
        }

        return null;
    }

    private static async Task<int> SubmitAndStreamAsync(
        IServerApi api, CommandHost host, string project, SubmitRunRequest request, CancellationToken cancellationToken)
    {
        var console = host.Console;

        // Captured before the submit, so a Ctrl-C at any moment after it asks rather than abandoning the run silently.
        using var interrupts = console.Interrupts.Capture();
        var run = await api.SubmitRunAsync(project, request, cancellationToken);
        await console.Error.WriteLineAsync($"run {run.RunName} submitted (log quota {ByteSize.FormatQuota(run.LogQuotaHour)})");

        // The runner's [logquota] lines (warnings, the crossing, a drop report) go to stderr as they arrive: stdout
        // stays the job's own output, and a warning is seen even when stdout is piped away.
        using var follower = new LogFollower(
            api, project, run.RunName, console.Output, LiveRegionDrawer.For(console), markers: console.Error, view: new LogView(console.UsesColor, timestamps: false));
        using var resized = console.Resizes.Subscribe(follower.Resized);
        var interrupted = interrupts.NextAsync(cancellationToken);
        var stopRequested = false;
        try
        {
            while (true)
            {
                // The server sends what is stored as it is stored; Ctrl-C meanwhile cancels the following, not a write.
                RunRow? ended = null;
                using (var waiting = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
                {
                    var following = follower.FollowAsync(console.Time, waiting.Token, cancellationToken);
                    if (await Task.WhenAny(following, interrupted) == following)
                    {
                        ended = await following;
                    }
                    else
                    {
                        await waiting.CancelAsync();
                        try
                        {
                            await following;
                        }
                        catch (Exception) when (waiting.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
                        {
                            // The following was cancelled (Refit may wrap the cancellation): nothing of it was half written.
                        }
                    }
                }

                if (ended is { } current)
                {
                    // The ended run's live region is empty already (its last lines are stored); this is for certainty.
                    await follower.EraseLiveAsync(cancellationToken);
                    if (follower.EndsMidLine && console.OutputIsTerminal)
                    {
                        // The summary goes to stderr; on a shared terminal it would otherwise be glued to the job's last line.
                        await console.Error.WriteLineAsync();
                    }

                    if (QuotaView.FinalLine(current.LogQuota) is { } quotaLine)
                    {
                        await console.Error.WriteLineAsync(quotaLine);
                    }

                    await console.Error.WriteLineAsync(RunSummary.Format(current));
                    return RunSummary.ExitCode(current);
                }

                // Stderr shares the terminal: a question or a message drawn over the live region would be erased with it.
                await follower.EraseLiveAsync(cancellationToken);
                var (stop, next) = stopRequested ? (false, interrupted) : await AskAsync(console, interrupts, cancellationToken);
                if (!stop)
                {
                    await console.Error.WriteLineAsync(stopRequested
                        ? $"detached from run {run.RunName}, which is stopping: 'logquota ps' shows when it has ended"
                        : $"detached from run {run.RunName}, which goes on: 'logquota logs -f {run.RunName}' follows it, 'logquota stop {run.RunName}' stops it");
                    return 0;
                }

                await api.StopRunAsync(project, run.RunName, cancellationToken);
                await console.Error.WriteLineAsync($"stopping run {run.RunName} (Ctrl-C again to detach)");
                stopRequested = true;
                interrupted = next;
            }
        }
        finally
        {
            // Left early (an error, the server gone): the last view stays, and what follows starts on a row of its own.
            await follower.LeaveLiveAsync(CancellationToken.None);
        }
    }

    /// <summary>
    /// After a Ctrl-C: "stop the run or detach?" when stdin is a terminal; otherwise (a script, CI) there is
    /// nobody to ask and the run is left running. A second Ctrl-C while asking detaches.
    /// </summary>
    /// <returns>Whether to stop, and the task of the next interrupt.</returns>
    private static async Task<(bool Stop, Task Next)> AskAsync(CliConsole console, InterruptCapture interrupts, CancellationToken cancellationToken)
    {
        var next = interrupts.NextAsync(cancellationToken);
        if (!console.InputIsTerminal)
        {
            return (false, next);
        }

        while (true)
        {
            await console.Error.WriteAsync("stop the run or detach? [s/d] ");
            var read = console.ReadKeyAsync(cancellationToken);
            if (await Task.WhenAny(read, next) == next)
            {
                await console.Error.WriteLineAsync();
                return (false, next);
            }

            var key = await read;
            await console.Error.WriteLineAsync(key is { } c && !char.IsControl(c) ? c.ToString() : "");
            switch (key is { } k ? char.ToLowerInvariant(k) : 'd')
            {
                case 's':
                    return (true, next);
                case 'd':
                    return (false, next);
            }
        }
    }

    private static long? ParseLogQuota(ArgumentResult result)
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
        if (ByteSize.TryParse(text, out var bytes) && bytes >= 1)
        {
            return bytes;
        }

        result.AddError($"--log-quota must be a number of bytes of at least 1, such as 1048576 or 50MiB; got '{text}'");
        return null;
    }

    private static int? ParseColumns(ArgumentResult result)
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
        if (int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var width)
            && width is >= JobSpecRules.MinColumns and <= JobSpecRules.MaxColumns)
        {
            return width;
        }

        result.AddError($"--columns must be a terminal width from {JobSpecRules.MinColumns} to {JobSpecRules.MaxColumns} characters; got '{text}'");
        return null;
    }

    private static int? ParseMaxDuration(ArgumentResult result)
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
        if (DurationText.TryParseSeconds(text, out var seconds))
        {
            return seconds;
        }

        result.AddError($"--max-duration must be a whole number of seconds of at least 1, or a duration such as 90m or 2h; got '{text}'");
        return null;
    }
}
