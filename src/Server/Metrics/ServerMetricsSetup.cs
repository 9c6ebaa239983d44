using LogQuota.Runner.Metrics;
using LogQuota.Server.Configuration;

namespace LogQuota.Server.Metrics;

/// <summary>Reads the metrics settings, registers the instruments and maps <c>GET /metrics</c>.</summary>
internal static class ServerMetricsSetup
{
    public const string MetricsVariable = "DSTACK_SERVER_METRICS";
    public const string MetricsTokenVariable = "DSTACK_SERVER_METRICS_TOKEN";

    /// <summary>Registers the server's instruments; with metrics on, also the exporter and the runner probe.</summary>
    public static void AddServerMetrics(this WebApplicationBuilder builder, MetricsSettings metrics)
    {
        var services = builder.Services;
        services.AddSingleton(metrics);
        services.AddSingleton<ServerMetrics>();
        services.AddSingleton<BudgetMetrics>();
        if (!metrics.Enabled)
        {
            return;
        }

        // The local runner's instruments are made with this container's factory, so this /metrics exports them too.
        services.AddPrometheusMetrics("logquota-server", ServerMetrics.MeterName, RunnerMetrics.MeterName);
        services.AddSingleton<RunGauges>();
        services.AddHttpClient(RunnerProbe.HttpClientName).RemoveAllLoggers();
        services.AddHostedService<RunnerProbe>();
    }

    public static void MapServerMetrics(this WebApplication app)
    {
        var metrics = app.Services.GetRequiredService<MetricsSettings>();
        if (metrics.Enabled)
        {
            // Created now: its gauges exist before the first scrape.
            app.Services.GetRequiredService<RunGauges>();
            app.MapPrometheusMetrics(metrics.Token ?? app.Services.GetRequiredService<ServerSettings>().AdminToken, $"{MetricsTokenVariable}, else the admin token");
        }
    }
}

/// <summary>The server's metrics settings.</summary>
/// <param name="Enabled"><c>DSTACK_SERVER_METRICS</c>: <c>on</c> (default) or <c>off</c>.</param>
/// <param name="Token"><c>DSTACK_SERVER_METRICS_TOKEN</c>; null: the admin token.</param>
internal sealed record MetricsSettings(bool Enabled, string? Token)
{
    /// <summary>Reads and checks the settings before anything is printed or touched, as the other settings are.</summary>
    /// <exception cref="SettingsException">A metrics setting is invalid; the message is the line to print.</exception>
    public static MetricsSettings Read(IConfiguration configuration)
    {
        var enabled = configuration[ServerMetricsSetup.MetricsVariable]?.Trim() switch
        {
            null or "" or "on" => true,
            "off" => false,
            var other => throw new SettingsException($"{ServerMetricsSetup.MetricsVariable}={other} is invalid: it must be on or off."),
        };
        var token = configuration[ServerMetricsSetup.MetricsTokenVariable]?.Trim() is { Length: > 0 } value ? value : null;
        if (token is not null && (token.Length < 16 || token.Any(char.IsWhiteSpace)))
        {
            // A secret: the line names the variable and the rule, never the value.
            throw new SettingsException($"{ServerMetricsSetup.MetricsTokenVariable} is invalid: it must be at least 16 characters without whitespace.");
        }

        return new MetricsSettings(enabled, token);
    }
}
