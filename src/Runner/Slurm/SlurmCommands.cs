using System.Diagnostics;

namespace LogQuota.Runner.Slurm;

/// <summary>What a Slurm client command answered.</summary>
internal sealed record SlurmAnswer(int ExitCode, string Output, string Error)
{
    public bool Succeeded => ExitCode == 0;

    /// <summary>The last line of the error output, for a message; the command's exit code without one.</summary>
    public string Why => Error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) is { Length: > 0 } lines
        ? lines[^1]
        : $"exit code {ExitCode}";
}

/// <summary>
/// Runs Slurm's client commands (<c>squeue</c>, <c>scontrol</c>, <c>scancel</c>) with the runner's environment, so
/// <c>SLURM_CONF</c> names the cluster. Each call is bounded: with <c>slurmctld</c> away a client retries for minutes.
/// </summary>
internal static class SlurmCommands
{
    /// <summary>A controller that does not answer within this is treated as away; its normal answer takes milliseconds.</summary>
    public static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(15);

    public static SlurmAnswer Run(string command, IEnumerable<string> arguments, TimeSpan? timeout = null)
    {
        using var process = Start(command, arguments);
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout ?? CallTimeout))
        {
            TryKill(process);
            return new SlurmAnswer(-1, "", $"{command} did not answer within {(timeout ?? CallTimeout).TotalSeconds:0} s (is slurmctld up?)");
        }

        process.WaitForExit();
        return new SlurmAnswer(process.ExitCode, output.Result, error.Result);
    }

    /// <summary>Starts <paramref name="command"/> with its output on pipes; the caller reads and reaps it.</summary>
    public static Process Start(string command, IEnumerable<string> arguments)
    {
        var info = new ProcessStartInfo(command)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        try
        {
            var process = Process.Start(info)!;
            process.StandardInput.Close();
            return process;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new Execution.JobStartException($"Cannot run Slurm's {command}: {e.Message}");
        }
    }

    public static void TryKill(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
        }
        catch (InvalidOperationException)
        {
        }
    }
}
