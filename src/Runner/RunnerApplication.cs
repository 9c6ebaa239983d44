using LogQuota.Runner.Api;
using LogQuota.Runner.Configuration;
using LogQuota.Runner.Isolation;
using LogQuota.Runner.Jobs;
using LogQuota.Runner.Metrics;
using LogQuota.Runner.Streaming;
using LogQuota.Shared.Hosting;
using LogQuota.Hosting;

namespace LogQuota.Runner;

/// <summary>Builds the runner's web application; used by <c>Program</c> and by a server that embeds a local runner.</summary>
public static class RunnerApplication
{
    /// <summary>Builds a runner listening on <see cref="RunnerSettings.Host"/>:<see cref="RunnerSettings.Port"/>.</summary>
    /// <exception cref="SettingsException">A setting is invalid.</exception>
    public static WebApplication Build(RunnerSettings settings, Action<WebApplicationBuilder>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();

        // Before anything else touches the directory: a second runner on it would sweep this one's jobs as leftovers.
        var directoryLock = ServiceDefaults.LockDirectory(settings.Dir, "DSTACK_RUNNER_DIR", (line, _) => new SettingsException(line));
        try
        {
            return Build(settings, directoryLock, configure);
        }
        catch
        {
            directoryLock.Dispose();
            throw;
        }
    }

    private static WebApplication Build(RunnerSettings settings, DirectoryLock directoryLock, Action<WebApplicationBuilder>? configure)
    {
        var builder = WebApplication.CreateSlimBuilder();
        ServiceLogging.Configure(builder.Logging);
        builder.AddServiceDefaults("runner", settings.Host, settings.Port, JobsApi.MaxSubmitBytes);
        builder.Services.AddSingleton(settings);
        builder.Services.AddSingleton(_ => directoryLock);

        // Under the directory's lock: one id per directory, whichever process made it.
        builder.Services.AddSingleton(RunnerIdentity.Load(settings.Dir));
        builder.Services.AddSingleton(TimeProvider.System);
        // Probed once, before the first job: what every job runs in, and what the health check reports.
        builder.Services.AddSingleton(_ => RunnerIsolation.Probe(settings));
        builder.AddRunnerMetrics(settings);
        builder.Services.AddSingleton(sp => new JobRegistry(
            settings, sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILoggerFactory>(),
            sp.GetRequiredService<RunnerIsolation>(), sp.GetRequiredService<RunnerMetrics>()));
        builder.Services.AddSingleton(sp => sp.GetRequiredService<JobRegistry>().Code);
        builder.Services.AddSingleton(sp => new RunnerShutdown(
            sp.GetRequiredService<JobRegistry>(), settings, sp.GetRequiredService<ILogger<RunnerShutdown>>()));
        builder.Services.AddHostedService(sp => sp.GetRequiredService<RunnerShutdown>());

        // SIGTERM → every job's grace period (10 s) and its reaping (5 s) → the drain: all of it within the host's
        // shutdown timeout, with 5 s to spare for Kestrel to close.
        builder.Services.Configure<HostOptions>(o =>
            o.ShutdownTimeout = Job.StopGracePeriod + TimeSpan.FromSeconds(10) + settings.DrainPeriod);
        configure?.Invoke(builder);

        var app = builder.Build();
        app.UseServiceDefaults();
        app.MapRunnerMetrics(settings);
        app.MapJobsApi(settings.Token);
        app.MapStreamApi(settings.Token);
        app.MapCodeApi(settings.Token);

        // Resolved once so that the container owns the lock and releases it when the runner is disposed.
        if (app.Services.GetRequiredService<DirectoryLock>().Repaired is { } repaired)
        {
            app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("LogQuota.Runner")
                .LogWarning("The runner directory was readable by other users; {Repaired}", repaired);
        }

        try
        {
            Prepare(app);
        }
        catch
        {
            // A setting found bad here (the job user, the work directory) must not leave the probe's cgroup behind.
            ((IDisposable)app.Services).Dispose();
            throw;
        }

        return app;
    }

    /// <summary>Probes the isolation, makes the work directory and ends the leftovers of an earlier process, in this order.</summary>
    private static void Prepare(WebApplication app)
    {
        // Before listening, under the lock: the jobs of a runner process that died on this directory must not run on unsupervised.
        // Stopping the runner does not orphan its jobs either: RunnerShutdown ends each, with the reason stated.
        // Both may find a setting bad; then nothing is logged before the one line that says so.
        var isolation = app.Services.GetRequiredService<RunnerIsolation>();
        var registry = app.Services.GetRequiredService<JobRegistry>();
        var loggers = app.Services.GetRequiredService<ILoggerFactory>();
        loggers.CreateLogger("LogQuota.Runner.Isolation").LogInformation("Job isolation: {Isolation}; the runner's {OomScore}", isolation.Description, LogQuota.Shared.Hosting.ProcessHardening.OomScoreNote);
        loggers.CreateLogger("LogQuota.Runner.Jobs").LogInformation("Job directories: {WorkDir}/<job id>, each with home/ and code/", registry.WorkDir);
        registry.EndLeftoversOfEarlierProcess();
    }
}
