using System.Collections.Concurrent;
using LogQuota.Shared.Contracts;

namespace LogQuota.Server.Runners;

/// <summary>
/// What each runner can give one job (SPEC §9), as its health check last said (<c>resources</c>): read when a run asks for
/// resources, so that a request no runner can satisfy is refused at submit with 400 naming it, and again when such a run
/// is assigned, so that it goes only to a runner that can satisfy it. A runner's answer is kept for <see cref="MaxAge"/>:
/// what a runner can give changes only when it restarts with other settings, and a submit should not wait on the network.
/// The runner watch hears every runner's health check at start-up and every few seconds (<see cref="Heard"/>), so a
/// submit asks a runner itself only when the watch has not heard from it for <see cref="MaxAge"/>.
/// </summary>
/// <remarks>
/// The runner checks every job again at <c>POST /api/jobs</c>, so an answer that went stale in between fails only that
/// job (<c>executor_error</c>, with the runner's words), never starts it without its limits.
/// </remarks>
public sealed class RunnerCapacities(RunnerPool runners, TimeProvider time, ILogger<RunnerCapacities> logger)
{
    /// <summary>How long a runner's answer is used before it is asked again.</summary>
    public static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(30);

    /// <summary>How long a submit waits for a runner's health check: the watch's own wait (a runner answers in
    /// milliseconds when idle, in seconds beside a CPU hog).</summary>
    private static readonly TimeSpan AskTimeout = RunnerCheck.Timeout;

    private readonly ConcurrentDictionary<string, (RunnerCapacity Capacity, DateTimeOffset At)> _known = new(StringComparer.Ordinal);

    /// <summary>What each runner can give, as it answered within <see cref="MaxAge"/> or, when it does not answer now, as it last answered; runners that never answered are left out.</summary>
    public async Task<IReadOnlyDictionary<string, RunnerCapacity>> CurrentAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var asked = runners.Runners.Select(async runner =>
        {
            if (_known.TryGetValue(runner, out var known) && now - known.At < MaxAge)
            {
                return (runner, known.Capacity);
            }

            return (runner, Capacity: await AskAsync(runner, cancellationToken) ?? (known.At == default ? null : known.Capacity));
        });
        return (await Task.WhenAll(asked)).Where(r => r.Capacity is not null).ToDictionary(r => r.runner, r => r.Capacity!, StringComparer.Ordinal);
    }

    /// <summary>What <paramref name="runner"/>'s health check answered just now, asked by someone else (the runner watch).</summary>
    public void Heard(string runner, HealthcheckResponse health)
    {
        ArgumentNullException.ThrowIfNull(health);
        _known[runner] = (health.Resources ?? RunnerCapacity.None, time.GetUtcNow());
    }

    /// <summary>
    /// Why no runner can run a job asking <paramref name="resources"/>, keyed by JSON field (<c>resources.memory</c>); empty
    /// when one can. Null when no runner answered at all, so nothing can be said.
    /// </summary>
    public async Task<Dictionary<string, string[]>?> RefusalsAsync(JobResources resources, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(resources);
        var capacities = await CurrentAsync(cancellationToken);
        if (capacities.Count == 0)
        {
            return null;
        }

        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (capacities.Values.Any(c => c.Refusal(resources) is null))
        {
            return errors;
        }

        // The most of each kind over all runners: what it cannot give, no runner can give even alone.
        var most = new RunnerCapacity(capacities.Values.Max(c => c.Cpus), capacities.Values.Max(c => c.Memory), capacities.Values.Max(c => c.Gpus));
        foreach (var (field, message) in most.Refusals(resources, ofAll: true))
        {
            errors[$"resources.{field}"] = [message];
        }

        if (errors.Count == 0)
        {
            errors["resources"] = ["No one runner can give all of resources together; each runner lacks one part of it. Ask for less of one part."];
        }

        return errors;
    }

    private async Task<RunnerCapacity?> AskAsync(string runner, CancellationToken cancellationToken)
    {
        if (runners.Client(runner) is not { } client)
        {
            return null;
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(AskTimeout);
        try
        {
            // A runner of an older version reports nothing: it can limit nothing a run asks.
            var health = await client.HealthcheckAsync(timeout.Token);
            Heard(runner, health);
            return health.Resources ?? RunnerCapacity.None;
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning("Runner {Runner} did not say what it can give a job: {Error}", runner, RunnerCallFailure.Describe(e));
            return null;
        }
    }
}
