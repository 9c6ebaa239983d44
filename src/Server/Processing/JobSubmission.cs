using System.Net;
using LogQuota.Server.Code;
using LogQuota.Server.Data;
using LogQuota.Shared.Api;
using LogQuota.Shared.Contracts;
using Refit;

namespace LogQuota.Server.Processing;

/// <summary>
/// Hands a job to its runner: the job's code first, when it has code and the runner answers 404 for it (SPEC §9),
/// then the job itself. Every call is idempotent, so a pass cut off anywhere here is simply repeated by the next one.
/// </summary>
internal sealed class JobSubmission(CodeStore code, TimeProvider time, ILogger logger)
{
    /// <summary>Submits the job; false when it failed here instead (its code is no longer on the server) and nothing was sent.</summary>
    public async Task<bool> SubmitAsync(ServerDbContext db, JobEntity job, IRunnerApi client, CancellationToken cancellationToken)
    {
        if (job.Spec.CodeHash is { } codeHash && !await HandCodeAsync(db, job, codeHash, client, cancellationToken))
        {
            return false;
        }

        await client.SubmitAsync(new SubmitBody(job.Id, new RunRef(job.RunId, job.Run.RunName), job.Spec), cancellationToken);
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
        logger.LogError("Job {JobId} failed: its code {CodeHash} is no longer on the server", job.Id, codeHash);
        job.TryEnd(JobEnd.ExecutorError($"The run's code {codeHash} is no longer on the server; upload it again and submit a new run"), time.GetUtcNow(), expected: JobStatus.Provisioning);
        job.Release();
        await db.SaveChangesAsync(cancellationToken);
        return false;
    }
}
