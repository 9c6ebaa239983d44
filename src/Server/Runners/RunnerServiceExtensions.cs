using System.Security.Cryptography;
using LogQuota.Runner.Configuration;
using LogQuota.Server.Configuration;
using LogQuota.Shared.Api;
using LogQuota.Shared.Json;
using Microsoft.Extensions.Http.Resilience;
using Polly;
using Refit;

namespace LogQuota.Server.Runners;

internal static class RunnerServiceExtensions
{
    /// <summary>
    /// The local runner's settings when the server hosts one (else null): its job settings (<c>DSTACK_RUNNER_JOB_UIDS</c>
    /// and the others of <see cref="RunnerSettings.WithJobSettings"/>) read from <paramref name="configuration"/> with the
    /// runner's own rules and error lines, so a host's runners can be given disjoint uid ranges.
    /// </summary>
    /// <exception cref="Runner.Configuration.SettingsException">One of those settings is invalid.</exception>
    public static RunnerSettings? ReadLocalRunner(ServerSettings settings, IConfiguration configuration)
    {
        if (!settings.UsesEmbeddedRunner)
        {
            return null;
        }

        var local = new RunnerSettings
        {
            Host = "127.0.0.1",
            Port = 0,
            Dir = Path.Combine(settings.Dir, "runner"),
            Token = settings.RunnerToken ?? Convert.ToHexString(RandomNumberGenerator.GetBytes(32)),
            // The server collects the ends of the local runner's jobs itself before the runner stops (JobProcessingService).
            DrainPeriod = TimeSpan.Zero,
        }.WithJobSettings(name => configuration[name]);
        local.Validate();
        return local;
    }

    /// <summary>
    /// One Refit <see cref="IRunnerApi"/> client per runner of <c>DSTACK_SERVER_RUNNERS</c>, keyed by its base URL, behind
    /// Polly; the clients of runners added at run time are made by <see cref="RunnerPool"/> from one named pipeline.
    /// </summary>
    /// <remarks>The clients log nothing themselves: IHttpClientFactory's request logging redacts header values in its
    /// message but hands them unredacted to structured sinks (JSON console, OpenTelemetry), the runner token included.
    /// Failed calls are logged by the job processor.</remarks>
    /// <param name="localRunner">What <see cref="ReadLocalRunner"/> read; null when the server has remote runners.</param>
    public static void AddRunners(this IServiceCollection services, ServerSettings settings, RunnerSettings? localRunner)
    {
        var refit = new RefitSettings(new SystemTextJsonContentSerializer(LogQuotaJson.Options));
        services.AddSingleton<RunnerPool>();
        services.AddSingleton<RunnerCapacities>();
        services.AddSingleton<RunnerCheck>();
        services.AddScoped<RunnersService>();
        services.AddHttpClient(RunnerCheck.HttpClientName).RemoveAllLoggers();

        // Runners added at run time: one client per address, each with a Polly pipeline (and circuit breaker) of its own.
        services.AddHttpClient(RunnerPool.AddedClientName)
            .RemoveAllLoggers()
            .AddHttpMessageHandler(() => new RunnerTokenHandler(settings.RunnerToken))
            .AddStandardResilienceHandler(Configure)
            .SelectPipelineByAuthority();

        // The streams' long polls: no resilience pipeline (its 5 s attempt timeout would cut them); RunnerStreams sets
        // each request's timeout and retries with its own backoff.
        services.AddHttpClient(Processing.RunnerStreamReader.ClientName, client => client.Timeout = Timeout.InfiniteTimeSpan)
            .RemoveAllLoggers()
            .AddHttpMessageHandler(() => new RunnerTokenHandler(localRunner?.Token ?? settings.RunnerToken));

        if (localRunner is not null)
        {
            var token = localRunner.Token!;

            // Its instruments are the server's: the server's /metrics exports them.
            services.AddSingleton(sp => localRunner with { EmbeddingMeters = sp.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>() });
            services.AddSingleton<EmbeddedRunner>();
            services.AddHostedService(sp => sp.GetRequiredService<EmbeddedRunner>());
            services.AddKeyedRefitGeneratedClient<IRunnerApi>(RunnerPool.EmbeddedKey, refit, "runner-embedded")
                .ConfigureHttpClient((sp, client) => client.BaseAddress = sp.GetRequiredService<EmbeddedRunner>().BaseAddress)
                .RemoveAllLoggers()
                .AddHttpMessageHandler(() => new RunnerTokenHandler(token))
                .AddStandardResilienceHandler(Configure);
            services.AddHostedService<RunnerWatch>();
            return;
        }

        for (var i = 0; i < settings.Runners.Count; i++)
        {
            var baseAddress = settings.Runners[i];
            services.AddKeyedRefitGeneratedClient<IRunnerApi>(baseAddress.ToString(), refit, $"runner-{i}")
                .ConfigureHttpClient(client => client.BaseAddress = baseAddress)
                .RemoveAllLoggers()
                .AddHttpMessageHandler(() => new RunnerTokenHandler(settings.RunnerToken))
                .AddStandardResilienceHandler(Configure);
        }

        services.AddHostedService<RunnerWatch>();
    }

    private static void Configure(HttpStandardResilienceOptions options)
    {
        // A runner answers in milliseconds on a healthy network; a call is retried 3 times with jittered
        // exponential backoff from 0.5 s, so one blip costs seconds, while a dead runner is given up on per
        // call within 20 s and, across calls, after DSTACK_SERVER_RUNNER_UNREACHABLE_TIMEOUT.
        options.Retry.MaxRetryAttempts = 3;
        options.Retry.Delay = TimeSpan.FromMilliseconds(500);
        options.Retry.UseJitter = true;
        options.AttemptTimeout.Timeout = TimeSpan.FromSeconds(5);
        options.TotalRequestTimeout.Timeout = TimeSpan.FromSeconds(20);

        // The breaker's window must be at least twice the attempt timeout.
        options.CircuitBreaker.SamplingDuration = TimeSpan.FromSeconds(30);

        // A code archive is up to DSTACK_SERVER_CODE_MAX_BYTES (128 MiB by default): in 5 s it would never reach a runner
        // behind a link slower than about 25 MiB/s, and the job would wait for ever. Its PUT alone gets minutes (0.5 MiB/s
        // is enough); every other call keeps its seconds.
        var attempt = options.AttemptTimeout.Timeout;
        var total = options.TotalRequestTimeout.Timeout;
        options.AttemptTimeout.TimeoutGenerator = args => ValueTask.FromResult(IsCodeUpload(args.Context) ? CodeUploadAttemptTimeout : attempt);
        options.TotalRequestTimeout.TimeoutGenerator = args => ValueTask.FromResult(IsCodeUpload(args.Context) ? 3 * CodeUploadAttemptTimeout : total);
    }

    /// <summary>The longest one attempt to hand a runner a code archive may take.</summary>
    internal static readonly TimeSpan CodeUploadAttemptTimeout = TimeSpan.FromMinutes(5);

    private static bool IsCodeUpload(ResilienceContext context) => context.GetRequestMessage()?.Content is Code.CodeArchiveContent;
}
