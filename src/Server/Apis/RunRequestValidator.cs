using System.Text.RegularExpressions;
using LogQuota.Shared.Contracts;

namespace LogQuota.Server.Apis;

/// <summary>The rules of <c>POST /api/runs</c> beyond what the JSON shape already enforces.</summary>
internal static partial class RunRequestValidator
{
    private const int MaxCommands = 1000;

    /// <summary>The runner refuses more than 256 KiB of commands in all; refusing here gives the user a 400
    /// instead of a job that fails on the runner.</summary>
    private const int MaxCommandsLength = 256 * 1024;
    private const int MaxTextLength = 65_536;
    private const int MaxEnv = 1000;
    private const int MaxPathLength = 4096;

    /// <summary>Every problem with <paramref name="request"/>, keyed by JSON field; empty when it is acceptable.</summary>
    /// <param name="request">The parsed body.</param>
    /// <param name="serverQuota">DSTACK_SERVER_LOG_QUOTA_PER_JOB_HOUR; 0 when disabled.</param>
    public static Dictionary<string, string[]> Validate(SubmitRunRequest request, long serverQuota)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);

        if (request.RunName is { } name && !RunNames.IsValid(name))
        {
            errors["run_name"] = [$"run_name '{Shorten(name)}' must match ^[a-z][a-z0-9-]{{0,40}}$: a lowercase letter, then up to 40 lowercase letters, digits or dashes."];
        }

        if (request.Commands.Count == 0)
        {
            errors["commands"] = ["commands must hold at least one command."];
        }
        else if (request.Commands.Count > MaxCommands)
        {
            errors["commands"] = [$"commands may hold at most {MaxCommands} commands, got {request.Commands.Count}."];
        }
        else if (request.Commands.Any(string.IsNullOrWhiteSpace))
        {
            errors["commands"] = ["Every command must be a non-empty string."];
        }
        else if (request.Commands.Any(c => c.Contains('\0', StringComparison.Ordinal)))
        {
            errors["commands"] = ["A command may not contain NUL characters."];
        }
        else if (request.Commands.Sum(c => (long)c.Length) > MaxCommandsLength)
        {
            errors["commands"] = [$"commands may hold at most {MaxCommandsLength} characters in all."];
        }

        if (request.Env is { } env)
        {
            if (env.Count > MaxEnv)
            {
                errors["env"] = [$"env may hold at most {MaxEnv} variables, got {env.Count}."];
            }
            else if (env.Keys.FirstOrDefault(k => !EnvName().IsMatch(k)) is { } badName)
            {
                errors["env"] = [$"env name '{Shorten(badName)}' must match ^[A-Za-z_][A-Za-z0-9_]*$."];
            }
            else if (env.FirstOrDefault(p => p.Value is null || p.Value.Length > MaxTextLength || p.Value.Contains('\0', StringComparison.Ordinal)) is { Key: not null } badValue)
            {
                errors["env"] = [$"env value of {badValue.Key} must be a string without NUL characters, at most {MaxTextLength} characters long."];
            }
        }

        if (request.WorkingDir is { } dir &&
            (!Path.IsPathFullyQualified(dir) || dir.Length > MaxPathLength || dir.Contains('\0', StringComparison.Ordinal)))
        {
            errors["working_dir"] = [$"working_dir must be an absolute path without NUL characters, at most {MaxPathLength} characters long; got '{Shorten(dir)}'."];
        }

        if (request.MaxDuration is < 1)
        {
            errors["max_duration"] = [$"max_duration must be a whole number of seconds of at least 1, got {request.MaxDuration}."];
        }

        if (request.LogQuotaHour is < 1)
        {
            errors["log_quota_hour"] = [$"log_quota_hour must be a whole number of bytes of at least 1, got {request.LogQuotaHour}."];
        }
        else if (request.LogQuotaHour is { } asked && serverQuota > 0 && asked > serverQuota)
        {
            errors["log_quota_hour"] = [$"log_quota_hour {asked} is above the server's quota of {serverQuota} bytes per hour; ask for {serverQuota} or less."];
        }

        return errors;
    }

    /// <summary>The quota the job runs with: the run's request when given (already checked against the server's), else the server's.</summary>
    public static long? EffectiveQuota(long? requested, long serverQuota) =>
        requested ?? (serverQuota == 0 ? null : serverQuota);

    private static string Shorten(string text) => text.Length <= 60 ? text : text[..60] + "…";

    [GeneratedRegex(@"^[A-Za-z_][A-Za-z0-9_]*\z", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 1000)]
    private static partial Regex EnvName();
}
