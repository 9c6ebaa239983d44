using LogQuota.Shared.Contracts;

namespace LogQuota.Server.Apis;

/// <summary>The rules of <c>POST /api/runs</c> beyond what the JSON shape already enforces.</summary>
internal static class RunRequestValidator
{
    /// <summary>Every problem with <paramref name="request"/>, keyed by JSON field; empty when it is acceptable.</summary>
    /// <param name="request">The parsed body.</param>
    /// <param name="serverQuota">DSTACK_SERVER_LOG_QUOTA_PER_JOB_HOUR; 0 when disabled.</param>
    /// <param name="serverAction">DSTACK_SERVER_LOG_QUOTA_ACTION.</param>
    public static Dictionary<string, string[]> Validate(SubmitRunRequest request, long serverQuota, LogQuotaAction serverAction)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);

        if (request.RunName is { } name && !RunNames.IsValid(name))
        {
            errors["run_name"] = [$"run_name {JobSpecRules.Quote(name)} must be a lowercase letter, then up to 40 lowercase letters, digits or dashes."];
        }

        if (request.CodeHash is { } codeHash && !JobSpecRules.IsValidCodeHash(codeHash))
        {
            errors["code_hash"] = [CodeApi.MalformedHashDetail("code_hash", codeHash)];
        }

        // The same rules the runner applies, so an accepted run never fails there for its shape or size.
        foreach (var (field, message) in JobSpecRules.Check(request.Commands, request.Env, request.WorkingDir, request.MaxDuration, request.LogQuotaHour))
        {
            errors[field] = [message];
        }

        if (!errors.ContainsKey("log_quota_hour") && request.LogQuotaHour is { } asked && serverQuota > 0 && asked > serverQuota)
        {
            errors["log_quota_hour"] = [$"log_quota_hour {ByteCount.Readable(asked)} is above the server's quota of {ByteCount.Readable(serverQuota)} per hour; ask for {ByteCount.Readable(serverQuota)} or less."];
        }

        foreach (var (field, message) in SecretRules.CheckRunSecrets(request.Secrets, request.Env))
        {
            errors[field] = [message];
        }

        foreach (var (field, message) in JobSpecRules.CheckResources(request.Resources))
        {
            errors[field] = [message];
        }

        foreach (var (field, message) in JobSpecRules.CheckColumns(request.Columns))
        {
            errors[field] = [message];
        }

        foreach (var (field, message) in JobSpecRules.CheckQuotaPolicy(null, request.LogQuotaKillGrace))
        {
            errors[field] = [message];
        }

        // A server that kills at the quota protects a bill; letting one run merely observe would undo that. The
        // reverse (a run asking kill or truncate of an observing server) only makes the run stricter.
        if (request.LogQuotaAction == LogQuotaAction.Observe && serverAction == LogQuotaAction.Kill)
        {
            errors["log_quota_action"] = ["log_quota_action observe is refused: the server's DSTACK_SERVER_LOG_QUOTA_ACTION is kill; ask for kill or truncate."];
        }

        return errors;
    }

    /// <summary>The resources a run asks for, or null when it asks for none (<c>{}</c>, only nulls, or no GPU).</summary>
    public static JobResources? Asked(JobResources? requested) =>
        requested is null || (requested.Cpus is null && requested.Memory is null && requested.Gpus is null or 0)
            ? null
            : requested with { Gpus = requested.Gpus is 0 ? null : requested.Gpus };

    /// <summary>The quota the job runs with: the run's request when given (already checked against the server's), else the server's.</summary>
    public static long? EffectiveQuota(long? requested, long serverQuota) =>
        requested ?? (serverQuota == 0 ? null : serverQuota);
}
