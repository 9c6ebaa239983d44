using System.CommandLine;
using System.Net;
using LogQuota.Cli.Connection;
using LogQuota.Shared.Contracts;
using Refit;
using Spectre.Console;

namespace LogQuota.Cli.Commands;

/// <summary>
/// <c>runners</c> (the list), <c>runners add URL [--name NAME]</c>, <c>runners drain NAME</c>, <c>runners remove NAME</c>:
/// the runners jobs go to, changed while the server runs.
/// </summary>
public static class RunnersCommand
{
    /// <summary>Creates the command and its subcommands.</summary>
    public static Command Create(CommandHost host)
    {
        ArgumentNullException.ThrowIfNull(host);
        var command = new Command("runners", "List the runners jobs go to; add, drain or remove one")
        {
            Add(host),
            Drain(host),
            Remove(host),
        };
        command.SetAction((parse, cancellationToken) => host.RunAsync(
            parse,
            runName: null,
            async (api, token) =>
            {
                host.Console.Write(BuildTable((await api.ListRunnersAsync(token)).Runners));
                return 0;
            },
            cancellationToken));
        return command;
    }

    /// <summary>NAME, URL, STATE, JOBS (held / capacity), ISOLATION: one row per runner.</summary>
    public static Table BuildTable(IReadOnlyList<RunnerView> runners)
    {
        ArgumentNullException.ThrowIfNull(runners);
        var table = new Table().NoBorder().HideRowSeparators();
        foreach (var column in new[] { "NAME", "URL", "STATE", "JOBS", "ISOLATION" })
        {
            table.AddColumn(new TableColumn(column).PadRight(2).PadLeft(0));
        }

        foreach (var r in runners)
        {
            var state = WireNames.Of(r.State);
            table.AddRow(
                Markup.Escape(r.Name),
                Markup.Escape(r.Url),
                r.State == RunnerState.Active ? state : $"[yellow]{state}[/]",
                $"{r.Jobs}/{(r.Capacity is { } capacity ? capacity.ToString(System.Globalization.CultureInfo.InvariantCulture) : "?")}",
                r.Isolation is { } isolation ? $"{WireNames.Of(isolation.Kill)}, {WireNames.Of(isolation.Users)} users" : "-");
        }

        return table;
    }

    private static Command Add(CommandHost host)
    {
        var url = new Argument<string>("URL") { Description = "The runner's base URL, e.g. http://10.0.0.5:10999" };
        var name = new Option<string?>("--name") { Description = "What to call it (default: made from its host and port)" };
        var command = new Command("add", "Add a runner; the server checks it answers with the shared runner token first") { url, name };
        command.SetAction((parse, cancellationToken) => host.RunAsync(
            parse,
            runName: null,
            async (api, token) =>
            {
                var added = await api.AddRunnerAsync(new AddRunnerRequest(parse.GetRequiredValue(url), parse.GetValue(name)), token);
                await host.Console.OutputText.WriteLineAsync(
                    $"added runner {added.Name} at {added.Url} (capacity {added.Capacity?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "unknown"} jobs)");
                return 0;
            },
            cancellationToken));
        return command;
    }

    private static Command Drain(CommandHost host)
    {
        var name = new Argument<string>("NAME") { Description = "The runner's name (logquota runners lists them)" };
        var command = new Command("drain", "Send no new job to a runner; the jobs it holds run to their end") { name };
        command.SetAction((parse, cancellationToken) => host.RunAsync(
            parse,
            runName: null,
            async (api, token) =>
            {
                var runnerName = parse.GetRequiredValue(name);
                RunnerView runner;
                try
                {
                    runner = await api.DrainRunnerAsync(runnerName, token);
                }
                catch (ApiException e) when (e.StatusCode == HttpStatusCode.NotFound)
                {
                    throw NotFound(runnerName);
                }

                await host.Console.OutputText.WriteLineAsync(
                    $"runner {runner.Name} is draining: no new job goes to it; it holds {runner.Jobs} job{(runner.Jobs == 1 ? "" : "s")}");
                return 0;
            },
            cancellationToken));
        return command;
    }

    private static Command Remove(CommandHost host)
    {
        var name = new Argument<string>("NAME") { Description = "The runner's name (logquota runners lists them)" };
        var command = new Command("remove", "Remove a runner that holds no job (drain it first)") { name };
        command.SetAction((parse, cancellationToken) => host.RunAsync(
            parse,
            runName: null,
            async (api, token) =>
            {
                var runnerName = parse.GetRequiredValue(name);
                try
                {
                    await api.RemoveRunnerAsync(runnerName, token);
                }
                catch (ApiException e) when (e.StatusCode == HttpStatusCode.NotFound)
                {
                    throw NotFound(runnerName);
                }
                catch (ApiException e) when (e.StatusCode == HttpStatusCode.Conflict)
                {
                    // The server's detail names its endpoint; the CLI names its own command.
                    var held = (await api.ListRunnersAsync(token)).Runners.FirstOrDefault(r => r.Name == runnerName);
                    throw new CliException(held is { Jobs: > 0 }
                        ? $"runner {runnerName} still holds {held.Jobs} job{(held.Jobs == 1 ? "" : "s")}; drain it (logquota runners drain {runnerName}), wait until they end, then remove it"
                        : $"runner {runnerName} cannot be removed: {ErrorMessages.Detail(e.Content) ?? "the server refused"}");
                }

                await host.Console.OutputText.WriteLineAsync($"removed runner {runnerName}");
                return 0;
            },
            cancellationToken));
        return command;
    }

    private static CliException NotFound(string name) => new($"no runner named {name}; logquota runners lists them");
}
