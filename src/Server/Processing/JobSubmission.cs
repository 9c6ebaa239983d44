using System.Net;
using LogQuota.Server.Code;
using LogQuota.Server.Data;
using LogQuota.Shared.Api;
using LogQuota.Shared.Contracts;
using Refit;

namespace LogQuota.Server.Processing;

/// <summary>
/// Hands a job to its runner: the job's code first, when it has code and the runner answers 404 for it (SPEC §9),
/// then the job itself, with the values of its secrets decrypted for this call only (they are in no row and no log).
/// Every call is idempotent, so a pass cut off anywhere here is simply repeated by the next one.
/// </summary>
internal sealed class JobSubmission(CodeStore code, Teams.SecretProtection secrets, TimeProvider time, ILogger logger)
{
    /// <summary>Submits the job; false when it failed here instead (its code is no longer on the server) and nothing was sent.</summary>
    public async Task<bool> SubmitAsync(ServerDbContext db, JobEntity job, IRunnerApi client, CancellationToken cancellationToken)
    {
        if (job.Spec.CodeHash is { } codeHash && !await HandCodeAsync(db, job, codeHash, client, cancellationToken))
        {
            return false;
        }

        Dictionary<string, string>? values = null;
        if (job.Spec.Secrets is { Count: > 0 } names)
        {
            (values, var problem) = await Teams.SecretsService.DecryptAsync(db, secrets, job.ProjectId, names, cancellationToken);
            if (values is null)
            {
                await FailAsync(db, job, problem!, cancellationToken);
                return false;
            }
        }

        await client.SubmitAsync(new SubmitBody(job.Id, new RunRef(job.RunId, job.Run.RunName), job.Spec, values), cancellationToken);
        return true;
    }

    private async Task<bool> HandCodeAsync(ServerDbContext db, JobEntity job, string codeHash, IRunnerApi client, CancellationToken cancellationToken)
    {
        using (var held = await client.CodeExistsAsync(codeHash, cancellationToken))
        {
            if (held.IsSuccessStatusCode)
            {
                return true;
            }

            // Anything but "not here" is a failed runner call, handled like any other.
            if (held.StatusCode != HttpStatusCode.NotFound)
            {
                await held.EnsureSuccessStatusCodeAsync();
                throw new HttpRequestException($"HEAD /api/code/{codeHash} answered {held.StatusCode}.");
            }
        }

        var archive = await code.FindAsync(codeHash, cancellationToken);
        if (archive is not null)
        {
            try
            {
                using var content = new CodeArchiveContent(code, archive);
                await client.PutCodeAsync(codeHash, content, cancellationToken);
                logger.LogInformation("Code {CodeHash} ({Bytes} bytes) handed to runner {Runner} for job {JobId}", codeHash, archive.SizeBytes, job.Runner, job.Id);
                return true;
            }
            catch (Exception e) when (e is CodeGoneException || e.InnerException is CodeGoneException)
            {
            }
        }

        // A run holds its code from its submit on (the garbage collector skips code a job names), so this is a
        // database restored without it or a row deleted by hand: the job cannot start anywhere.
        await FailAsync(db, job, $"The run's code {codeHash} is no longer on the server; upload it again and submit a new run", cancellationToken);
        return false;
    }

    /// <summary>Ends a job that cannot start anywhere (<c>executor_error</c>, with <paramref name="message"/>) before any runner has it.</summary>
    private async Task FailAsync(ServerDbContext db, JobEntity job, string message, CancellationToken cancellationToken)
    {
        logger.LogError("Job {JobId} failed before its hand-off: {Message}", job.Id, message);
        job.TryEnd(JobEnd.ExecutorError(message), time.GetUtcNow(), expected: JobStatus.Provisioning);
        job.Release();
        await db.SaveChangesAsync(cancellationToken);
    }
}
