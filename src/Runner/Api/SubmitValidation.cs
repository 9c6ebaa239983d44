using System.Text.RegularExpressions;
using LogQuota.Shared.Contracts;

namespace LogQuota.Runner.Api;

/// <summary>Checks a submit body beyond what JSON binding checks; returns the first problem in words, or null.</summary>
internal static partial class SubmitValidation
{
    private const int MaxCommandsBytes = 256 * 1024;
    private const int MaxEnvEntries = 1024;

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$")]
    private static partial Regex EnvName();

    public static string? Validate(SubmitBody body)
    {
        var spec = body.JobSpec;
        if (body.JobId == Guid.Empty)
        {
            return "job_id must be a non-zero UUID.";
        }

        if (string.IsNullOrWhiteSpace(body.Run.RunName) || body.Run.RunName.Length > 64)
        {
            return "run.run_name must be 1 to 64 characters.";
        }

        if (spec.Commands.Count == 0)
        {
            return "job_spec.commands must hold at least one command.";
        }

        if (spec.Commands.Any(string.IsNullOrWhiteSpace))
        {
            return "job_spec.commands must not hold empty commands.";
        }

        if (spec.Commands.Sum(c => (long)c.Length) > MaxCommandsBytes)
        {
            return $"job_spec.commands must be at most {MaxCommandsBytes} characters in all.";
        }

        if (spec.Commands.Any(c => c.Contains('\0', StringComparison.Ordinal)))
        {
            return "job_spec.commands must not contain NUL characters.";
        }

        if (spec.Env is { } env)
        {
            if (env.Count > MaxEnvEntries)
            {
                return $"job_spec.env must have at most {MaxEnvEntries} entries.";
            }

            foreach (var (key, value) in env)
            {
                if (!EnvName().IsMatch(key))
                {
                    return $"job_spec.env name '{key}' must match ^[A-Za-z_][A-Za-z0-9_]*$.";
                }

                if (value.Contains('\0', StringComparison.Ordinal))
                {
                    return $"job_spec.env value of '{key}' must not contain NUL characters.";
                }
            }
        }

        if (spec.WorkingDir is { } dir && (!Path.IsPathFullyQualified(dir) || dir.Contains('\0', StringComparison.Ordinal)))
        {
            return $"job_spec.working_dir must be an absolute path, got '{dir}'.";
        }

        if (spec.MaxDuration is < 1)
        {
            return $"job_spec.max_duration must be at least 1 second, got {spec.MaxDuration}.";
        }

        if (spec.LogQuotaHour is < 1)
        {
            return $"job_spec.log_quota_hour must be at least 1 byte or null (unlimited), got {spec.LogQuotaHour}.";
        }

        return null;
    }
}
