using System.Text.Json;
using LogQuota.Hosting;
using LogQuota.Runner.Jobs;
using LogQuota.Shared;
using LogQuota.Shared.Contracts;
using LogQuota.Shared.Json;
using Microsoft.AspNetCore.Http.HttpResults;

namespace LogQuota.Runner.Api;

/// <summary>The runner's HTTP API (SPEC §3).</summary>
internal static class JobsApi
{
    /// <summary>Log text per pull answer: large enough to keep up with a fast job, small enough to bound memory per request.</summary>
    public const int MaxPullLogBytes = 4 * 1024 * 1024;

    /// <summary>Largest accepted request body (1 MiB); Kestrel is held to the same limit.</summary>
    public const int MaxSubmitBytes = JobSpecRules.MaxBodyBytes;

    public static IEndpointRouteBuilder MapJobsApi(this IEndpointRouteBuilder app, string? token)
    {
        app.MapGet("/api/healthcheck", (Isolation.RunnerIsolation isolation, JobRegistry registry, Configuration.RunnerIdentity identity, Configuration.RunnerSettings settings) =>
            TypedResults.Ok(new HealthcheckResponse("logquota-runner", ProductVersion.Value, isolation.Info, registry.Capacity, identity.Id, settings.EffectiveMaxJobs)));

        var jobs = app.MapGroup("/api/jobs").AddEndpointFilter(TokenAuth(token));
        jobs.MapPost("/", SubmitAsync);
        jobs.MapGet("/{jobId}/pull", Pull);
        jobs.MapPost("/{jobId}/stop", StopAsync);
        jobs.MapDelete("/{jobId}", Delete);
        return app;
    }

    public static async Task<Results<Ok, ProblemHttpResult>> SubmitAsync(
        HttpRequest request, JobRegistry registry, Isolation.RunnerIsolation isolation, CancellationToken cancellationToken)
    {
        var (body, problem) = await ReadBodyAsync<SubmitBody>(request, cancellationToken);
        if (body is null)
        {
            return problem!;
        }

        ArgumentNullException.ThrowIfNull(isolation);
        if (SubmitValidation.Validate(body, registry.Capacity, registry.SlurmPartitions) is { } error)
        {
            return BadRequest(error);
        }

        var (outcome, _) = registry.Submit(body);
        return outcome switch
        {
            SubmitOutcome.Conflict => TypedResults.Problem(title: "Conflict",
                detail: $"Job {body.JobId} was already submitted with a different body.", statusCode: StatusCodes.Status409Conflict),
            // 503, not 4xx: the server retries elsewhere or later, the job itself is fine.
            SubmitOutcome.ShuttingDown => TypedResults.Problem(title: "Service Unavailable",
                detail: "The runner is shutting down and takes no new jobs.", statusCode: StatusCodes.Status503ServiceUnavailable),
            SubmitOutcome.CodeMissing => BadRequest(
                $"code {body.JobSpec.CodeHash} is not on this runner; PUT /api/code/{body.JobSpec.CodeHash} first."),
            _ => TypedResults.Ok(),
        };
    }

    public static Results<Ok<PullResponse>, ProblemHttpResult> Pull(string jobId, HttpRequest request, JobRegistry registry)
    {
        if (FindJob(jobId, registry) is not { } job)
        {
            return NotFound(jobId);
        }

        var raw = request.Query["timestamp"];
        long timestamp = 0;
        if (raw.Count > 1 || (raw.Count == 1 && !long.TryParse(raw[0], System.Globalization.NumberStyles.AllowLeadingSign,
                System.Globalization.CultureInfo.InvariantCulture, out timestamp)))
        {
            return BadRequest($"timestamp must be one integer number of milliseconds, got '{raw}'.");
        }

        return TypedResults.Ok(job.Pull(timestamp, MaxPullLogBytes));
    }

    public static async Task<Results<Ok, ProblemHttpResult>> StopAsync(string jobId, HttpRequest request, JobRegistry registry, CancellationToken cancellationToken)
    {
        if (FindJob(jobId, registry) is not { } job)
        {
            return NotFound(jobId);
        }

        var stop = new StopBody();
        if (request.ContentLength is > 0 || request.Headers.TransferEncoding.Count > 0)
        {
            var (body, problem) = await ReadBodyAsync<StopBody>(request, cancellationToken);
            if (body is null)
            {
                return problem!;
            }

            stop = body;
        }

        if (stop.TerminationReason is TerminationReason.ContainerExitedWithError or TerminationReason.LogQuotaExceeded or TerminationReason.ExecutorError)
        {
            return BadRequest("termination_reason of a stop must be terminated_by_server, terminated_by_user, max_duration_exceeded or instance_unreachable.");
        }

        if (stop.TerminationMessage is { Length: > JobSpecRules.MaxTerminationMessageLength })
        {
            return BadRequest($"termination_message must be at most {JobSpecRules.MaxTerminationMessageLength} characters.");
        }

        var reason = stop.TerminationReason ?? TerminationReason.TerminatedByServer;
        job.Stop(reason, stop.TerminationMessage ?? (reason == TerminationReason.TerminatedByUser ? "Stopped by user" : "Stopped by server"));
        return TypedResults.Ok();
    }

    public static Results<NoContent, ProblemHttpResult> Delete(string jobId, JobRegistry registry)
    {
        if (FindJob(jobId, registry) is not { } job)
        {
            return NotFound(jobId);
        }

        return registry.TryDelete(job)
            ? TypedResults.NoContent()
            : TypedResults.Problem(title: "Conflict", detail: $"Job {jobId} is still running; stop it first.", statusCode: StatusCodes.Status409Conflict);
    }

    /// <summary>What every runner endpoint but the health check requires: <c>DSTACK_RUNNER_TOKEN</c>, when it is set.</summary>
    internal static BearerAuth TokenAuth(string? token) =>
        new(token, "A valid 'Authorization: Bearer <DSTACK_RUNNER_TOKEN>' header is required.");

    private static Job? FindJob(string jobId, JobRegistry registry) =>
        Guid.TryParse(jobId, out var id) ? registry.Find(id) : null;

    private static ProblemHttpResult NotFound(string jobId) =>
        TypedResults.Problem(title: "Not Found", detail: $"No job {jobId} on this runner.", statusCode: StatusCodes.Status404NotFound);

    internal static ProblemHttpResult BadRequest(string detail) =>
        TypedResults.Problem(title: "Bad Request", detail: detail, statusCode: StatusCodes.Status400BadRequest);

    private static async Task<(T? Body, ProblemHttpResult? Problem)> ReadBodyAsync<T>(HttpRequest request, CancellationToken cancellationToken)
        where T : class
    {
        if (!request.HasJsonContentType())
        {
            return (null, TypedResults.Problem(title: "Unsupported Media Type", detail: "The body must be application/json.",
                statusCode: StatusCodes.Status415UnsupportedMediaType));
        }

        if (request.ContentLength > MaxSubmitBytes)
        {
            return (null, TooLarge());
        }

        try
        {
            var body = await JsonBody.ReadAsync<T>(request, MaxSubmitBytes, cancellationToken);
            return body is null ? (null, BadRequest("The body must be a JSON object, not null.")) : (body, null);
        }
        catch (BodyTooLargeException)
        {
            return (null, TooLarge());
        }
        catch (JsonException e)
        {
            return (null, BadRequest($"The body is not valid: {JsonErrors.Describe(e, typeof(T), LogQuotaJson.StrictOptions)}"));
        }
        catch (BadHttpRequestException e)
        {
            // Kestrel's own limits, such as a chunked body growing past MaxRequestBodySize (413).
            return (null, TypedResults.Problem(detail: e.Message, statusCode: e.StatusCode));
        }
    }

    private static ProblemHttpResult TooLarge() =>
        TypedResults.Problem(title: "Payload Too Large", detail: $"The body must be at most {MaxSubmitBytes} bytes.",
            statusCode: StatusCodes.Status413PayloadTooLarge);
}
