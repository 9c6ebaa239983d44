using System.CommandLine;
using LogQuota.Cli.Formatting;

namespace LogQuota.Cli.Commands;

/// <summary><c>stop RUN</c>: asks the server to stop a run; its job ends <c>terminated</c> (<c>stopped</c>).</summary>
public static class StopCommand
{
    /// <summary>Creates the command.</summary>
    public static Command Create(CommandHost host)
    {
        ArgumentNullException.ThrowIfNull(host);
        var run = new Argument<string>("RUN") { Description = "The run's name" };
        var command = new Command("stop", "Stop a run") { run };
        command.SetAction((parse, cancellationToken) =>
        {
            var runName = parse.GetRequiredValue(run);
            var project = host.ProjectOf(parse);
            return host.RunAsync(
                parse,
                runName,
                async (api, token) =>
                {
                    // Read first so a finished run gets a clear answer rather than a silent no-op stop.
                    var current = await api.GetRunAsync(project, runName, token);
                    if (current.Status.IsFinished())
                    {
                        await host.Console.OutputText.WriteLineAsync($"run {runName} has already finished: {current.StatusMessage}");
                        return 0;
                    }

                    await api.StopRunAsync(project, runName, token);
                    await host.Console.OutputText.WriteLineAsync($"stopping run {runName}");
                    return 0;
                },
                cancellationToken);
        });
        return command;
    }
}
