using System.CommandLine;
using System.Net;
using LogQuota.Cli.Connection;
using LogQuota.Cli.Formatting;
using Refit;

namespace LogQuota.Cli.Commands;

/// <summary><c>delete RUN</c>: deletes a finished run and its logs.</summary>
public static class DeleteCommand
{
    /// <summary>Creates the command.</summary>
    public static Command Create(CommandHost host)
    {
        ArgumentNullException.ThrowIfNull(host);
        var run = new Argument<string>("RUN") { Description = "The run's name" };
        var command = new Command("delete", "Delete a finished run and its logs") { run };
        command.SetAction((parse, cancellationToken) =>
        {
            var runName = parse.GetRequiredValue(run);
            var project = host.ProjectOf(parse);
            return host.RunAsync(
                parse,
                runName,
                async (api, token) =>
                {
                    try
                    {
                        await api.DeleteRunAsync(project, runName, token);
                    }
                    catch (ApiException e) when (e.StatusCode == HttpStatusCode.Conflict)
                    {
                        // The server's detail names its endpoint; the CLI names its own command.
                        var current = await api.GetRunAsync(project, runName, token);
                        throw new CliException(current.Status.IsFinished()
                            ? $"run {runName} cannot be deleted: {ErrorMessages.Detail(e.Content) ?? "the server refused"}"
                            : $"run {runName} has not finished ({current.StatusMessage}); stop it first: logquota stop {runName}");
                    }

                    await host.Console.OutputText.WriteLineAsync($"deleted run {runName}");
                    return 0;
                },
                cancellationToken);
        });
        return command;
    }
}
