using LogQuota.Shared.Contracts;

namespace LogQuota.Cli.Formatting;

/// <summary>What the CLI needs to know about a <see cref="RunStatus"/>.</summary>
public static class RunStatusExtensions
{
    /// <summary>True once nothing more happens to the run: <c>done</c>, <c>failed</c> or <c>terminated</c>.</summary>
    public static bool IsFinished(this RunStatus status) =>
        status is RunStatus.Done or RunStatus.Failed or RunStatus.Terminated;
}
