using LogQuota.Server.Apis;
using LogQuota.Server.Configuration;
using LogQuota.Server.Data;

var builder = WebApplication.CreateBuilder(args);
try
{
    builder.AddServer();
}
catch (SettingsException e)
{
    // One line naming the variable and its value; no host was built, so there is nothing to stop.
    await Console.Error.WriteLineAsync(e.Message);
    return 1;
}

var app = builder.Build();
app.UseExceptionHandler();

// Answers are data: a log served as text/plain must never be sniffed into HTML by a browser.
app.Use((context, next) =>
{
    context.Response.Headers.XContentTypeOptions = "nosniff";
    return next(context);
});
app.UseStatusCodePages();
app.UseMiddleware<AdminTokenMiddleware>();
app.MapOpenApi();
app.MapHealthApi();
app.MapRunsApi();

await app.MigrateDatabaseAsync();
await app.RunAsync();
return 0;
