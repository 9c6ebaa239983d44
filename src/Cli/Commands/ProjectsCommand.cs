using System.CommandLine;
using System.CommandLine.Parsing;
using LogQuota.Cli.Formatting;
using LogQuota.Shared.Contracts;
using Spectre.Console;

namespace LogQuota.Cli.Commands;

/// <summary>
/// <c>projects</c> (the caller's projects, with each budget's usage bar this hour) and
/// <c>projects budget PROJECT SIZE [--action A]</c> (set a project's hourly log budget; <c>0</c> removes it) and
/// <c>projects show PROJECT [--dropped]</c> (its members, its budget, and the evidence of its last hour that crossed).
/// </summary>
public static class ProjectsCommand
{
    /// <summary>Creates the command and its subcommand.</summary>
    public static Command Create(CommandHost host)
    {
        ArgumentNullException.ThrowIfNull(host);
        var command = new Command("projects", "List your projects, your role in each and their log budgets' usage this hour") { Budget(host), Show(host) };
        command.SetAction((parse, cancellationToken) => host.RunAsync(
            parse,
            runName: null,
            async (api, token) =>
            {
                var projects = new List<ProjectInfo>();
                foreach (var row in (await api.ListProjectsAsync(token)).Projects)
                {
                    projects.Add(await api.GetProjectAsync(row.Name, token));
                }

                host.Console.Write(BuildTable(projects));
                return 0;
            },
            cancellationToken));
        return command;
    }

    /// <summary>NAME, ROLE, BUDGET (per hour, action), USED (bar, bytes and share this hour), RESETS: one row per project.</summary>
    public static Table BuildTable(IReadOnlyList<ProjectInfo> projects)
    {
        ArgumentNullException.ThrowIfNull(projects);
        var table = new Table().NoBorder().HideRowSeparators();
        foreach (var column in new[] { "NAME", "ROLE", "BUDGET", "USED", "RESETS" })
        {
            table.AddColumn(new TableColumn(column).PadRight(2).PadLeft(0));
        }

        foreach (var p in projects)
        {
            if (p.LogBudget is not { Limit: { } limit } budget)
            {
                table.AddRow(Markup.Escape(p.Name), WireNames.Of(p.Role), "-", "-", "-");
                continue;
            }

            var used = $"{QuotaView.Bar(budget.UsedBytesHour, limit)} {ByteSize.Format(budget.UsedBytesHour)} ({QuotaView.Share(budget.UsedBytesHour, limit)})";
            table.AddRow(
                Markup.Escape(p.Name),
                WireNames.Of(p.Role),
                $"{ByteSize.FormatQuota(limit)} {QuotaView.ActionName(budget.Action)}",
                Markup.Escape(budget.ExceededAt is null ? used : used + ", exceeded"),
                QuotaView.Clock(budget.HourResetsAt));
        }

        return table;
    }

    /// <summary>The lines of <c>projects show</c>.</summary>
    public static IEnumerable<string> ShowLines(ProjectInfo project, bool wholeTail)
    {
        ArgumentNullException.ThrowIfNull(project);
        yield return $"project:    {project.Name} (your role: {WireNames.Of(project.Role)})";
        yield return "members:    " + (project.Members.Count == 0 ? "none" : string.Join(", ", project.Members.Select(m => $"{m.User} ({WireNames.Of(m.Role)})")));
        foreach (var line in BudgetView.Section(project.LogBudget, wholeTail))
        {
            yield return line;
        }
    }

    private static Command Show(CommandHost host)
    {
        var project = new Argument<string>("PROJECT") { Description = "The project's name" };
        var dropped = new Option<bool>("--dropped")
        {
            Description = $"Print every kept line of what the budget dropped in the last hour that crossed (64 KiB at most), not only the last {BudgetView.TailLines}",
        };
        var command = new Command("show", "A project's members, its log budget this hour, and what filled its last hour that crossed the budget") { project, dropped };
        command.SetAction((parse, cancellationToken) => host.RunAsync(
            parse,
            runName: null,
            async (api, token) =>
            {
                var shown = await api.GetProjectAsync(parse.GetRequiredValue(project), token);
                foreach (var line in ShowLines(shown, parse.GetValue(dropped)))
                {
                    await host.Console.OutputText.WriteLineAsync(line);
                }

                return 0;
            },
            cancellationToken));
        return command;
    }

    private static Command Budget(CommandHost host)
    {
        var project = new Argument<string>("PROJECT") { Description = "The project's name" };
        var size = new Argument<long>("SIZE")
        {
            Description = "Stored log bytes an hour for all its jobs together, such as 1048576 or 1GiB; 0 removes the budget",
            CustomParser = ParseSize,
        };
        var action = new Option<string?>("--action")
        {
            Description = "At the budget: kill (the job that crosses; the default), truncate (every job's output until the hour ends) or observe (only record it)",
            HelpName = "ACTION",
        };
        action.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<string?>() is { } value && !WireNames.TryParse<LogQuotaAction>(value, out _))
            {
                result.AddError($"--action must be {WireNames.Alternatives<LogQuotaAction>()}; got '{value}'");
            }
        });
        var command = new Command("budget", "Set a project's hourly log budget (its admins and managers)") { project, size, action };
        command.SetAction((parse, cancellationToken) => host.RunAsync(
            parse,
            runName: null,
            async (api, token) =>
            {
                LogQuotaAction? chosen = parse.GetValue(action) is { } name && WireNames.TryParse<LogQuotaAction>(name, out var a) ? a : null;
                var updated = await api.UpdateProjectAsync(parse.GetRequiredValue(project), new UpdateProjectRequest(parse.GetValue(size), chosen), token);
                await host.Console.OutputText.WriteLineAsync(updated.LogBudget is { Limit: { } limit } budget
                    ? $"project {updated.Name}: log budget {ByteSize.FormatQuota(limit)} ({QuotaView.ActionName(budget.Action)}), {ByteSize.Format(budget.UsedBytesHour)} used this hour"
                    : $"project {updated.Name}: no log budget");
                return 0;
            },
            cancellationToken));
        return command;
    }

    private static long ParseSize(ArgumentResult result)
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
        if (ByteSize.TryParse(text, out var bytes))
        {
            return bytes;
        }

        result.AddError($"SIZE must be a number of bytes, such as 1048576 or 1GiB (0 removes the budget); got '{text}'");
        return 0;
    }
}
