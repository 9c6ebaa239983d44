using System.Globalization;
using LogQuota.Shared.Contracts;

namespace LogQuota.Server.Web;

/// <summary>
/// The submit form as typed: every field a string, so what the user wrote is shown back as written next to its
/// error. Field names are the API's JSON names, so the API's per-field errors land next to the right field.
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

    /// <summary>Names of the project's secrets, separated by spaces, commas or lines.</summary>
    public string Secrets { get; init; } = "";

    /// <summary>The API's request, or the fields that cannot even be put into one (a quota that is not a number).</summary>
    public (SubmitRunRequest? Request, Dictionary<string, string> Errors) ToRequest()
    {
        var errors = new Dictionary<string, string>(StringComparer.Ordinal);
        var commands = Commands.Split('\n').Select(c => c.TrimEnd('\r')).Where(c => c.Trim().Length > 0).ToList();
        var quota = ParseNumber(LogQuotaHour, "log_quota_hour", "The quota must be a whole number of bytes, such as 1000", errors);
        var maxDuration = ParseNumber(MaxDuration, "max_duration", "The max duration must be a whole number of seconds, such as 3600", errors);
        LogQuotaAction? action = WireNames.TryParse<LogQuotaAction>(LogQuotaAction, out var chosen) ? chosen : null;
        if (LogQuotaAction != "" && action is null)
        {
            errors["log_quota_action"] = $"Choose {WireNames.Alternatives<LogQuotaAction>()}.";
        }

        var env = ParseEnv(errors);
        var resources = ParseResources(errors);
        if (maxDuration is > int.MaxValue)
        {
            errors["max_duration"] = $"The max duration must be at most {int.MaxValue} seconds.";
        }

        if (errors.Count > 0)
        {
            return (null, errors);
        }

        return (new SubmitRunRequest(
            commands,
            RunName.Trim().Length == 0 ? null : RunName.Trim(),
            env,
            WorkingDir: WorkingDir.Trim().Length == 0 ? null : WorkingDir.Trim(),
            MaxDuration: (int?)maxDuration,
            LogQuotaHour: quota,
            Tty: Tty,
            LogQuotaAction: action,
            Resources: resources,
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
                errors["resources.cpus"] = $"CPUs must be a number such as 0.5 or 2; got '{cpusText}'.";
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
                errors["resources.memory"] = $"Memory must be a size such as 512MiB or 8GiB; got '{memoryText}'.";
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

        errors[field] = $"{message}; got '{trimmed}'.";
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
