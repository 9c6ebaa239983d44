using LogQuota.Hosting;
using LogQuota.Server.Apis;
using LogQuota.Server.Configuration;
using LogQuota.Server.Data;
using LogQuota.Server.Metrics;
using LogQuota.Server.Web;
using LogQuota.Shared.Hosting;

// Exit codes (docs/server.md): 0 stopped, 1 any start-up failure, told in one line without a stack trace.
// The content and web roots are the application's own directory, not the working directory, so the page's stylesheet
// and scripts are found however the server is started (from /, from the repository, by systemd).
var builder = WebApplication.CreateBuilder(new WebApplicationOptions
{
    Args = args,
    ContentRootPath = AppContext.BaseDirectory,
    WebRootPath = Path.Combine(AppContext.BaseDirectory, "wwwroot"),
});
try
{
    builder.AddServer();
    var app = builder.Build();

    // The configuration has read the environment: the tokens leave it, and a server that is not root becomes
    // non-dumpable, so that the jobs of its local runner cannot take them (SPEC §7).
    ProcessHardening.Apply();
    app.Logger.LogInformation("Server process: {OomScore}", ProcessHardening.OomScoreNote);
    app.UseServiceDefaults();
    app.UseMiddleware<CallerMiddleware>();
    app.UseWebPage();
    app.MapServerMetrics();
    app.MapOpenApi();
    app.MapHealthApi();
    app.MapRunsApi();
    app.MapUsersApi();
    app.MapProjectsApi();
    app.MapSecretsApi();
    app.MapRunnersApi();
    app.MapCodeApi();
    app.MapWebPage();

    await app.MigrateDatabaseAsync();

    // One for the process: the local runner, when there is one, lives in it too.
    // Debug: an idle service logs nothing (the first return, soon after start-up, gives back what start-up left).
    using var memoryReturn = ServiceDefaults.StartMemoryReturn(app.Logger);
    await app.RunUntilStoppedAsync();
    return 0;
}
catch (Exception e) when (StartupErrors.Describe(e, builder.WebHost.GetSetting(WebHostDefaults.ServerUrlsKey)) is { } line)
{
    await Console.Error.WriteLineAsync(line);
    return 1;
}
