using LogQuota.Shared.Contracts;
using Spectre.Console;

namespace LogQuota.Cli.Formatting;

/// <summary>The colours of <c>ps</c>: failed rows stand out in red, the rest only colour their STATUS cell.</summary>
public static class StatusColors
{
    /// <summary>True when the whole row is drawn in red.</summary>
    public static bool HighlightsRow(RunStatus status) => status == RunStatus.Failed;

    /// <summary>The colour of the STATUS cell; null leaves it in the terminal's default colour.</summary>
    public static Color? For(RunStatus status) => status switch
    {
        RunStatus.Pending or RunStatus.Submitted => Color.Yellow,
        RunStatus.Running => Color.Green,
        RunStatus.Terminating => Color.Yellow,
        RunStatus.Failed => Color.Red,
        RunStatus.Terminated => Color.Grey,
        RunStatus.Done => null,
        _ => null,
    };
}
