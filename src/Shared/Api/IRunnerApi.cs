using LogQuota.Shared.Contracts;
using Refit;

namespace LogQuota.Shared.Api;

/// <summary>The runner's HTTP API (SPEC §3), as the server calls it. Every call but the health check needs the runner token.</summary>
public interface IRunnerApi
{
    /// <summary><c>GET /api/healthcheck</c>.</summary>
    [Get("/api/healthcheck")]
    Task<HealthcheckResponse> HealthcheckAsync(CancellationToken cancellationToken);

    /// <summary><c>HEAD /api/code/{sha256}</c>: 200 when the runner holds that code archive, 404 when not.</summary>
    [Head("/api/code/{sha256}")]
    Task<IApiResponse> CodeExistsAsync(string sha256, CancellationToken cancellationToken);

    /// <summary><c>PUT /api/code/{sha256}</c>: hand the runner a gzip'd tar of code (SPEC §9) before a job that names it.</summary>
    [Put("/api/code/{sha256}")]
    Task PutCodeAsync(string sha256, [Body] HttpContent archive, CancellationToken cancellationToken);

    /// <summary><c>POST /api/jobs</c>: start a job; the same body again is a no-op, a different one for the same id is 409.</summary>
    [Post("/api/jobs")]
    Task SubmitAsync([Body] SubmitBody body, CancellationToken cancellationToken);

    /// <summary><c>GET /api/jobs/{job_id}/pull?timestamp=T</c>: states and logs after <paramref name="timestamp"/>.</summary>
    [Get("/api/jobs/{jobId}/pull")]
    Task<PullResponse> PullAsync(Guid jobId, [AliasAs("timestamp")] long timestamp, CancellationToken cancellationToken);

    /// <summary><c>POST /api/jobs/{job_id}/stop</c>: SIGTERM the job's tree, SIGKILL after the grace period.</summary>
    [Post("/api/jobs/{jobId}/stop")]
    Task StopAsync(Guid jobId, [Body] StopBody body, CancellationToken cancellationToken);

    /// <summary><c>DELETE /api/jobs/{job_id}</c>: forget a finished job and remove its spool.</summary>
    [Delete("/api/jobs/{jobId}")]
    Task DeleteAsync(Guid jobId, CancellationToken cancellationToken);
}
