using LogQuota.Shared.Contracts;

namespace LogQuota.Runner.Api;

/// <summary>Checks a submit body beyond what JSON binding checks; returns the first problem in words, or null.</summary>
internal static class SubmitValidation
{
    /// <param name="body">The submit body.</param>
    /// <param name="capacity">What this runner can give a job: a job asking more is refused here, before it starts.</param>
    /// <param name="partitions">The Slurm partitions a run may name; null when this runner does not run jobs through Slurm.</param>
    public static string? Validate(SubmitBody body, RunnerCapacity capacity, IReadOnlyList<string>? partitions = null)
    {
        if (body.JobId == Guid.Empty)
        {
            return "job_id must be a non-zero UUID.";
        }

        // Exported to the job as DSTACK_RUN_NAME: the server's rule keeps it a plain word.
        if (body.Run.RunName is null || !JobSpecRules.IsValidRunName(body.Run.RunName))
        {
            return $"run.run_name must match {JobSpecRules.RunNamePattern}, got {(body.Run.RunName is null ? "null" : JobSpecRules.Quote(body.Run.RunName))}.";
        }

        // working_dir by the runner's own rule, which takes relative directories too (inside the code directory).
        var spec = body.JobSpec;
        if (spec.CodeHash is not null && !JobSpecRules.IsValidCodeHash(spec.CodeHash))
        {
            return $"job_spec.code_hash must be a SHA-256, 64 lowercase hexadecimal digits, got {JobSpecRules.Quote(spec.CodeHash)}.";
        }

        if (JobSpecRules.Check(spec.Commands, spec.Env, spec.WorkingDir, spec.MaxDuration, spec.LogQuotaHour)
            .Concat(JobSpecRules.CheckQuotaPolicy(spec.LogQuotaWarnAt, spec.LogQuotaKillGrace))
            .Concat(JobSpecRules.CheckResources(spec.Resources))
            .Concat(JobSpecRules.CheckColumns(spec.Columns)).FirstOrDefault() is { Field: not null } problem)
        {
            return $"job_spec.{problem.Field}: {problem.Message}";
        }

        if (CheckSecrets(spec.Secrets, body.Secrets) is { } secretsProblem)
        {
            return secretsProblem;
        }

        if (spec.Resources?.Partition is { } partition && !(partitions?.Contains(partition, StringComparer.Ordinal) ?? false))
        {
            return partitions is null
                ? $"job_spec.resources.partition: this runner does not run jobs through Slurm, so it cannot place one in partition {JobSpecRules.Quote(partition)}."
                : $"job_spec.resources.partition: {JobSpecRules.Quote(partition)} is not one of this runner's partitions ({(partitions.Count == 0 ? "none are allowed" : string.Join(", ", partitions))}).";
        }

        return capacity.Refusal(spec.Resources) is { } refusal ? $"job_spec.resources.{refusal.Field}: {refusal.Message}" : null;
    }

    /// <summary>Every secret the spec names comes with a value, and no value comes without its name (nor a null one).</summary>
    private static string? CheckSecrets(IReadOnlyList<string>? names, IReadOnlyDictionary<string, string>? values)
    {
        var named = names ?? [];
        if (SecretRules.CheckRunSecrets(named, null).FirstOrDefault() is { Field: not null } problem)
        {
            return $"job_spec.{problem.Field}: {problem.Message}";
        }

        var given = values ?? new Dictionary<string, string>();
        if (named.FirstOrDefault(name => !given.TryGetValue(name, out var value) || value is null) is { } missing)
        {
            return $"secrets: job_spec.secrets names {JobSpecRules.Quote(missing)}, but the body holds no value for it.";
        }

        return given.Keys.FirstOrDefault(name => !named.Contains(name, StringComparer.Ordinal)) is { } extra
            ? $"secrets: {JobSpecRules.Quote(extra)} has a value but is not in job_spec.secrets."
            : null;
    }
}
