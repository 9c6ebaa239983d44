using System.Globalization;
using LogQuota.Runner.Api;
using LogQuota.Runner.Jobs;
using LogQuota.Shared.Contracts;
using Microsoft.AspNetCore.Http.HttpResults;

namespace LogQuota.Runner.Streaming;

/// <summary><c>GET /api/pull?after=CURSOR&amp;wait=S</c>: the runner's one stream of every job's events (SPEC §3, §12).</summary>
internal static class StreamApi
{
    /// <summary>The longest a request may be held open: under any proxy's idle timeout, and the server asks far less.</summary>
    public const int MaxWaitSeconds = 60;

    public static IEndpointRouteBuilder MapStreamApi(this IEndpointRouteBuilder app, string? token)
    {
        app.MapGet("/api/pull", PullAsync).AddEndpointFilter(JobsApi.TokenAuth(token));
        return app;
    }

    public static async Task<Results<Ok<StreamResponse>, ProblemHttpResult>> PullAsync(
        HttpRequest request, JobRegistry registry, IHostApplicationLifetime lifetime, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(registry);
        ArgumentNullException.ThrowIfNull(lifetime);
        // A parameter of another endpoint is a mistake worth naming (a job's pull reached here as /api/jobs/../pull).
        if (request.Query.Keys.FirstOrDefault(k => k is not "after" and not "wait") is { } unknown)
        {
            return JobsApi.BadRequest($"GET /api/pull takes after and wait, not '{unknown}'.");
        }

        var after = request.Query["after"];
        if (after.Count > 1 || !RunnerStream.IsWellFormed(after.ToString()))
        {
            return JobsApi.BadRequest($"after must be a cursor this runner answered (epoch:number), got '{after}'.");
        }

        var rawWait = request.Query["wait"];
        double wait = 0;
        if (rawWait.Count > 1 || (rawWait.Count == 1 && (!double.TryParse(rawWait[0], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out wait)
                || wait > MaxWaitSeconds)))
        {
            return JobsApi.BadRequest($"wait must be a number of seconds from 0 to {MaxWaitSeconds}, got '{rawWait}'.");
        }

        // A stopping runner answers its waiting requests at once, so the host's shutdown never waits out a long poll.
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, lifetime.ApplicationStopping);
        var answer = await registry.Stream.PullAsync(
            after.Count == 0 ? null : after[0], TimeSpan.FromSeconds(wait), registry.Find, () => registry.Jobs.Select(j => j.Id), linked.Token);
        return TypedResults.Ok(answer);
    }
}
