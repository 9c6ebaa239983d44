using LogQuota.Shared.Contracts;

namespace LogQuota.Runner.Api;

/// <summary>Checks a submit body beyond what JSON binding checks; returns the first problem in words, or null.</summary>
internal static class SubmitValidation
{
    public static string? Validate(SubmitBody body)
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
        var dirProblem = spec.WorkingDir is null ? null : Jobs.JobDirectories.CheckWorkingDir(spec.WorkingDir);
        return JobSpecRules.Check(spec.Commands, spec.Env, workingDir: null, spec.MaxDuration, spec.LogQuotaHour)
            .Concat(dirProblem is null ? [] : [("working_dir", dirProblem)])
            .Concat(JobSpecRules.CheckQuotaPolicy(spec.LogQuotaWarnAt, spec.LogQuotaKillGrace)).FirstOrDefault() is
            { Field: not null } problem
            ? $"job_spec.{problem.Field}: {problem.Message}"
            : null;
    }
}
