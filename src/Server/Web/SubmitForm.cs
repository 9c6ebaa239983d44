using System.Globalization;
using LogQuota.Shared.Contracts;

namespace LogQuota.Server.Web;

/// <summary>
/// The submit form as typed: every field a string, so what the user wrote is shown back as written next to its
/// error. Field names are the API's JSON names, so the API's per-field errors land next to the right field. Sizes and
/// durations take the CLI's units (<see cref="ByteCount"/>, <see cref="DurationText"/>): <c>100MiB</c>, <c>2h</c>.
/// </summary>
internal sealed class SubmitForm
{
    public string Commands { get; init; } = "";

    public string RunName { get; init; } = "";

    public string LogQuotaHour { get; init; } = "";

    public string LogQuotaAction { get; init; } = "";

    public string MaxDuration { get; init; } = "";

    public string Env { get; init; } = "";

    public string WorkingDir { get; init; } = "";

    public bool Tty { get; init; } = true;

    public string Cpus { get; init; } = "";

    public string Memory { get; init; } = "";

    public string Gpus { get; init; } = "";

    public string Columns { get; init; } = "";

    /// <summary>Names of the project's secrets, separated by spaces, commas or lines.</summary>
    public string Secrets { get; init; } = "";

    /// <summary>
    /// The API's request, with the fields that cannot even be put into one (a quota that is not a size) left out and
    /// named in the errors: the API checks the rest, so the user hears of every field at once.
    /// </summary>
    public (SubmitRunRequest Request, Dictionary<string, string> Errors) ToRequest()
    {
        var errors = new Dictionary<string, string>(StringComparer.Ordinal);
        var commands = Commands.Split('\n').Select(c => c.TrimEnd('\r')).Where(c => c.Trim().Length > 0).ToList();
        long? quota = null;
        if (LogQuotaHour.Trim() is { Length: > 0 } quotaText)
        {
            if (ByteCount.TryParse(quotaText, out var bytes))
            {
                quota = bytes;
            }
            else
            {
                errors["log_quota_hour"] = $"The quota must be a size such as 100MiB or 1GiB, or a number of bytes; got {JobSpecRules.Quote(quotaText)}.";
            }
        }

        int? maxDuration = null;
        if (MaxDuration.Trim() is { Length: > 0 } durationText)
        {
            if (DurationText.TryParseSeconds(durationText, out var seconds))
            {
                maxDuration = seconds;
            }
            else
            {
                errors["max_duration"] = $"The max duration must be a duration such as 90m, 2h or 1d, or a number of seconds; got {JobSpecRules.Quote(durationText)}.";
            }
        }

        var columns = ParseNumber(Columns, "columns", "The terminal width must be a whole number of characters, such as 200", errors);
        if (columns is > int.MaxValue)
        {
            errors["columns"] = $"The terminal width must be from {JobSpecRules.MinColumns} to {JobSpecRules.MaxColumns} characters; got {columns}.";
        }

        LogQuotaAction? action = WireNames.TryParse<LogQuotaAction>(LogQuotaAction, out var chosen) ? chosen : null;
        if (LogQuotaAction != "" && action is null)
        {
            errors["log_quota_action"] = $"Choose {WireNames.Alternatives<LogQuotaAction>()}.";
        }

        var env = ParseEnv(errors);
        var resources = ParseResources(errors);
        return (new SubmitRunRequest(
            commands,
            RunName.Trim().Length == 0 ? null : RunName.Trim(),
            env,
            WorkingDir: WorkingDir.Trim().Length == 0 ? null : WorkingDir.Trim(),
            MaxDuration: maxDuration,
            LogQuotaHour: quota,
            Tty: Tty,
            LogQuotaAction: action,
            Resources: resources,
            Columns: columns is { } c and <= int.MaxValue ? (int)c : null,

            Secrets: Secrets.Split([' ', ',', '\n', '\r'], StringSplitOptions.RemoveEmptyEntries) is { Length: > 0 } secrets ? secrets : null), errors);
    }

    /// <summary>The three resource fields; the API checks the numbers against its rules and the runners.</summary>
    private JobResources? ParseResources(Dictionary<string, string> errors)
    {
        double? cpus = null;
        if (Cpus.Trim() is { Length: > 0 } cpusText)
        {
            if (double.TryParse(cpusText, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value))
            {
                cpus = value;
            }
            else
            {
                errors["resources.cpus"] = $"CPUs must be a number such as 0.5 or 2; got {JobSpecRules.Quote(cpusText)}.";
            }
        }

        long? memory = null;
        if (Memory.Trim() is { Length: > 0 } memoryText)
        {
            if (ByteCount.TryParse(memoryText, out var bytes))
            {
                memory = bytes;
            }
            else
            {
                errors["resources.memory"] = $"Memory must be a size such as 512MiB or 8GiB; got {JobSpecRules.Quote(memoryText)}.";
            }
        }

        var gpus = ParseNumber(Gpus, "resources.gpus", "GPUs must be a whole number such as 1", errors);
        if (gpus is > int.MaxValue)
        {
            errors["resources.gpus"] = $"GPUs must be at most {int.MaxValue}.";
        }

        return cpus is null && memory is null && gpus is null ? null : new JobResources(cpus, memory, (int?)gpus);
    }

    private static long? ParseNumber(string text, string field, string message, Dictionary<string, string> errors)
    {
        var trimmed = text.Trim();
        if (trimmed.Length == 0)
        {
            return null;
        }

        if (long.TryParse(trimmed, NumberStyles.None, CultureInfo.InvariantCulture, out var value))
        {
            return value;
        }

        errors[field] = $"{message}; got {JobSpecRules.Quote(trimmed)}.";
        return null;
    }

    /// <summary>One <c>NAME=value</c> per line; blank lines are skipped.</summary>
    private Dictionary<string, string>? ParseEnv(Dictionary<string, string> errors)
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        var number = 0;
        foreach (var raw in Env.Split('\n'))
        {
            number++;
            var line = raw.TrimEnd('\r');
            if (line.Trim().Length == 0)
            {
                continue;
            }

            var equals = line.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                errors["env"] = $"Line {number} must be NAME=value; got '{line}'.";
                return null;
            }

            if (!env.TryAdd(line[..equals].Trim(), line[(equals + 1)..]))
            {
                errors["env"] = $"Line {number} sets {line[..equals].Trim()} a second time.";
                return null;
            }
        }

        return env.Count == 0 ? null : env;
    }
}
