using LogQuota.Server.Apis;
using LogQuota.Server.Data;
using LogQuota.Server.Processing;
using LogQuota.Server.Runners;
using LogQuota.Shared.Contracts;
using LogQuota.Shared.Json;

namespace LogQuota.Server.Configuration;

internal static class ServerServiceExtensions
{
    /// <summary>Reads the settings and registers everything the server runs on.</summary>
    /// <exception cref="SettingsException">A setting is invalid; the message is the line to print.</exception>
    public static void AddServer(this WebApplicationBuilder builder)
    {
        var settings = ServerSettingsLoader.Load(builder.Configuration, Console.Out);
        builder.WebHost.UseUrls($"http://{(settings.Host.Contains(':', StringComparison.Ordinal) && !settings.Host.StartsWith('[') ? $"[{settings.Host}]" : settings.Host)}:{settings.Port}");
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MaxRequestBodySize = JobSpecRules.MaxBodyBytes);

        // Per-command SQL and per-request HTTP lines drown the job lines; appsettings or Logging__LogLevel__* can lower these again.
        builder.Logging.AddFilter("Microsoft.EntityFrameworkCore", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Logging.AddFilter("System.Net.Http.HttpClient", LogLevel.Warning);
        builder.Logging.AddFilter("Polly", LogLevel.Warning);

        var services = builder.Services;
        services.AddSingleton(settings);
        services.AddSingleton(TimeProvider.System);
        services.AddProblemDetails(options => options.CustomizeProblemDetails = ProblemDetailsDefaults.FillDetail);
        services.AddOpenApi();
        services.ConfigureHttpJsonOptions(options => LogQuotaJson.Configure(options.SerializerOptions, strict: true));
        services.AddSingleton<LogsPageTokens>();
        services.AddServerDatabase(settings);

        // Hosted services start in this order and stop in reverse: the local runner is up before the
        // processor first calls it, and the processor has stopped before the runner goes away.
        services.AddRunners(settings);
        services.AddSingleton<JobProcessor>();
        services.AddHostedService<JobProcessingService>();
    }
}
