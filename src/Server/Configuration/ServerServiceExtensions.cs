using LogQuota.Hosting;
using LogQuota.Runner;
using LogQuota.Server.Apis;
using LogQuota.Server.Data;
using LogQuota.Server.Metrics;
using LogQuota.Server.Processing;
using LogQuota.Server.Replicas;
using LogQuota.Server.Runners;
using LogQuota.Server.Web;
using LogQuota.Shared.Contracts;
using LogQuota.Shared.Hosting;
using LogQuota.Shared.Json;

namespace LogQuota.Server.Configuration;

internal static class ServerServiceExtensions
{
    /// <summary>Reads the settings and registers everything the server runs on.</summary>
    /// <exception cref="SettingsException">A setting is invalid; the message is the line to print.</exception>
    public static void AddServer(this WebApplicationBuilder builder)
    {
        var settings = ServerSettingsLoader.Read(builder.Configuration);
        var metrics = MetricsSettings.Read(builder.Configuration);
        var localRunner = RunnerServiceExtensions.ReadLocalRunner(settings, builder.Configuration);

        // Before the token file, the database or the local runner's directory is touched: a second server on this
        // directory would sweep the first one's jobs as leftovers of a dead process.
        var directoryLock = ServiceDefaults.LockDirectory(settings.Dir, ServerSettingsLoader.DirVariable, (line, e) => new SettingsException(line + ".", e));
        builder.Services.AddSingleton(_ => directoryLock);
        builder.Services.AddHostedService<DirectoryLockHolder>();
        var tokenFromEnvironment = settings.AdminToken.Length > 0;
        settings = ServerSettingsLoader.WithAdminToken(settings, Console.Out);
        builder.AddServiceDefaults("server", settings.Host, settings.Port, JobSpecRules.MaxBodyBytes);

        // Per-command SQL and per-request HTTP lines drown the job lines; appsettings or Logging__LogLevel__* can lower these again.
        ServiceLogging.Configure(builder.Logging);
        builder.Logging.AddFilter("Microsoft.EntityFrameworkCore", LogLevel.Warning);

        // A failed command or connection reaches the code that used it, which logs or answers it in one line (a corrupt
        // or unopenable database stops start-up with one); EF's own "Failed executing DbCommand" and "An error occurred
        // using the connection" would add the SQL text and the exception on more lines.
        builder.Logging.AddFilter("Microsoft.EntityFrameworkCore.Database", LogLevel.Critical);
        builder.Logging.AddFilter("System.Net.Http.HttpClient", LogLevel.Warning);

        // Polly logs every failed attempt with its exception and stack at Warning and Error; the job processor
        // logs one line per failed runner call instead (type and message; the stack at Debug).
        builder.Logging.AddFilter("Polly", LogLevel.Critical);

        var services = builder.Services;
        services.AddSingleton(settings);
        services.AddSingleton(TimeProvider.System);
        services.AddExceptionHandler<Data.Faults.StorageFaultAnswers>();
        services.AddLogQuotaOpenApi();
        services.AddSingleton<LogsPageTokens>();
        services.AddSingleton<LogSearchTokens>();
        services.AddSingleton<Apis.Lists.RunsPageTokens>();
        services.AddScoped<Teams.CallerAuthentication>();
        services.AddScoped<Teams.TeamAccess>();
        services.AddScoped<Teams.UsersService>();
        services.AddScoped<Teams.ProjectsService>();
        services.AddScoped<Teams.SecretsService>();
        services.AddScoped<Runs.RunsService>();
        services.AddServerDatabase(settings);
        builder.AddServerMetrics(metrics);

        // Hosted services start in this order and stop in reverse: the local runner is up before the
        // processor first calls it, and the processor has stopped before the runner goes away.
        services.AddRunners(settings, localRunner);
        services.AddSingleton<ReplicaIdentity>();
        services.AddSingleton<JobLeases>();
        services.AddSingleton<Code.CodeStore>();
        services.AddSingleton<StreamLeases>();
        services.AddSingleton<Budgets.ProjectBudgets>();
        services.AddSingleton<RunnerStreamStore>();
        services.AddSingleton<RunnerStreamReader>();
        services.AddSingleton<CarriedStreams>();
        services.AddSingleton<StreamedJobs>();
        services.AddSingleton<JobProcessor>();
        services.AddHostedService<LeaseKeeper>();
        services.AddHostedService<JobProcessingService>();

        // After the processor: stops before it, so the final pass of a stopping server pulls per job, as it always did.
        services.AddHostedService<RunnerStreams>();
        services.AddSingleton<Retention.LogRetention>();
        services.AddHostedService<Retention.LogRetentionService>();
        services.AddSingleton<Retention.BudgetHourRetention>();
        services.AddHostedService<Retention.BudgetHourRetentionService>();
        services.AddSingleton<Code.CodeCollector>();
        services.AddHostedService<Code.CodeCollectorService>();
        builder.AddWebPage(settings);
        services.AddHostedService(provider => ActivatorUtilities.CreateInstance<StartupLines>(provider, tokenFromEnvironment));
    }
}

/// <summary>
/// Resolves the server directory's lock when the host starts, which makes the container own it: it is released
/// when the host is disposed (a test starting a second server on the same directory), else when the process exits.
/// </summary>
internal sealed class DirectoryLockHolder(DirectoryLock directoryLock, ILogger<DirectoryLockHolder> logger) : IHostedService
{
    /// <summary>The lock held.</summary>
    public DirectoryLock Lock { get; } = directoryLock;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (Lock.Repaired is { } repaired)
        {
            logger.LogWarning("The server directory was readable by other users; {Repaired}", repaired);
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
