using System.Diagnostics.Metrics;
using LogQuota.Runner.Configuration;

namespace LogQuota.Runner.Metrics;

/// <summary>Registers and maps the runner's metrics, per <see cref="RunnerSettings"/>.</summary>
internal static class RunnerMetricsSetup
{
    /// <summary>
    /// Registers <see cref="RunnerMetrics"/>; a runner of its own also gets a meter provider and so a <c>/metrics</c>,
    /// a runner hosted by a server creates its instruments with the server's factory, whose <c>/metrics</c> exports them.
    /// </summary>
    public static void AddRunnerMetrics(this WebApplicationBuilder builder, RunnerSettings settings)
    {
        builder.Services.AddSingleton(sp => new RunnerMetrics(settings.EmbeddingMeters ?? sp.GetRequiredService<IMeterFactory>()));
        if (settings.MetricsEnabled && settings.EmbeddingMeters is null)
        {
            builder.Services.AddPrometheusMetrics("logquota-runner", RunnerMetrics.MeterName);
        }
    }

    public static void MapRunnerMetrics(this WebApplication app, RunnerSettings settings)
    {
        if (settings.MetricsEnabled && settings.EmbeddingMeters is null)
        {
            app.MapPrometheusMetrics(settings.MetricsToken ?? settings.Token, "DSTACK_RUNNER_METRICS_TOKEN, else DSTACK_RUNNER_TOKEN");
        }
    }
}
