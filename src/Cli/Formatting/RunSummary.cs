using LogQuota.Shared.Contracts;
using LogQuota.Shared.Json;

namespace LogQuota.Cli.Formatting;

/// <summary>The line <c>run</c> prints when a run ends, and the exit code it ends with.</summary>
public static class RunSummary
{
    /// <summary><c>run train-1 failed: log quota exceeded (Job log output exceeded the hourly quota of 1024 bytes)</c>.</summary>
    public static string Format(RunRow run)
    {
        ArgumentNullException.ThrowIfNull(run);
        var status = StatusName(run.Status);
        if (run.Error is null)
        {
            return $"run {run.RunName} {status}: {run.StatusMessage}";
        }

        return string.IsNullOrWhiteSpace(run.TerminationMessage)
            ? $"run {run.RunName} {status}: {run.Error}"
            : $"run {run.RunName} {status}: {run.Error} ({run.TerminationMessage})";
    }

    /// <summary>0 only for <c>done</c>; otherwise the job's exit status when it is a usable one (1–255), else 1.</summary>
    public static int ExitCode(RunRow run)
    {
        ArgumentNullException.ThrowIfNull(run);
        if (run.Status == RunStatus.Done)
        {
            return 0;
        }

        return run.ExitStatus is >= 1 and <= 255 ? run.ExitStatus.Value : 1;
    }

    /// <summary>The status as it is spelled on the wire (<c>failed</c>, <c>terminated</c>).</summary>
    public static string StatusName(RunStatus status) =>
        System.Text.Json.JsonSerializer.Serialize(status, LogQuotaJson.Options).Trim('"');
}
