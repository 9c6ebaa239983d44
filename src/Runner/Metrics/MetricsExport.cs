using System.Diagnostics.Metrics;
using LogQuota.Shared;
using LogQuota.Hosting;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace LogQuota.Runner.Metrics;

/// <summary>
/// How both services export their <see cref="System.Diagnostics.Metrics"/> instruments: OpenTelemetry's Prometheus
/// exporter answers <c>GET /metrics</c> in the Prometheus text format, behind a bearer token (SPEC §8).
/// </summary>
public static class MetricsExport
{
    /// <summary>The scrape path on both services.</summary>
    public const string Path = "/metrics";

    /// <summary>ASP.NET Core's own meters: <c>http_server_request_duration_seconds</c>, active requests, Kestrel connections.</summary>
    private static readonly string[] AspNetCoreMeters = ["Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel"];

    /// <summary>Registers an OpenTelemetry meter provider that listens to <paramref name="meters"/> and ASP.NET Core's meters.</summary>
    /// <param name="services">The service's container.</param>
    /// <param name="serviceName">The <c>service_name</c> of <c>target_info</c>.</param>
    /// <param name="meters">LogQuota's meter names to export.</param>
    public static void AddPrometheusMetrics(this IServiceCollection services, string serviceName, params string[] meters)
    {
        services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(serviceName, serviceVersion: ProductVersion.Value))
            .WithMetrics(metrics => metrics
                .AddMeter([.. meters, .. AspNetCoreMeters])
                .AddPrometheusExporter());

        // OpenTelemetry listens to meters by name in the whole process. A server hosts a runner in its process, and a
        // test process hosts many services: each exports only the meters its own container created (a meter made by an
        // IMeterFactory has that factory as its scope); meters made without a factory (scope null) are the process's.
        services.ConfigureOpenTelemetryMeterProvider((provider, metrics) =>
        {
            var own = provider.GetRequiredService<IMeterFactory>();
            metrics.AddView(instrument =>
                instrument.Meter.Scope is null || ReferenceEquals(instrument.Meter.Scope, own) ? null : MetricStreamConfiguration.Drop);
        });
    }

    /// <summary>
    /// Answers <c>GET /metrics</c> for requests carrying <c>Authorization: Bearer &lt;token&gt;</c>; anything else gets a
    /// 401 problem. A null token leaves the endpoint open, as the service's other endpoints are without one.
    /// </summary>
    /// <param name="app">The service.</param>
    /// <param name="token">The token the scraper must send.</param>
    /// <param name="tokenHint">Where the token comes from, for the 401's detail.</param>
    public static void MapPrometheusMetrics(this WebApplication app, string? token, string tokenHint)
    {
        ArgumentNullException.ThrowIfNull(app);
        var auth = new BearerAuth(token, $"Send the metrics token as 'Authorization: Bearer <token>' ({tokenHint}).");
        app.UseOpenTelemetryPrometheusScrapingEndpoint(
            meterProvider: null,
            predicate: context => context.Request.Path == Path,
            path: null,
            configureBranchedPipeline: branch => branch.Use(async (context, next) =>
            {
                if (auth.Allows(context.Request))
                {
                    await next(context);
                    return;
                }

                await auth.Challenge(context.Response).ExecuteAsync(context);
            }),
            optionsName: null);
    }
}
