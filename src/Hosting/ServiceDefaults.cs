using LogQuota.Shared.Hosting;
using LogQuota.Shared.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace LogQuota.Hosting;

/// <summary>What the server and the runner set up the same way as web services: where they listen, how large a request
/// body may be, strict JSON, problem details with a clear <c>detail</c>, and the headers every answer carries.</summary>
public static class ServiceDefaults
{
    /// <summary>Listens on <paramref name="host"/>:<paramref name="port"/>, bounds request bodies and configures JSON and problem details.</summary>
    /// <param name="builder">The service being built.</param>
    /// <param name="service">What the service is called in a 5xx's detail: <c>server</c>, <c>runner</c>.</param>
    /// <param name="host">An IP address (an IPv6 one with or without brackets) or <c>localhost</c>.</param>
    /// <param name="port">The port.</param>
    /// <param name="maxRequestBodyBytes">The most a request body may hold, unless an endpoint raises it for itself.</param>
    public static void AddServiceDefaults(this WebApplicationBuilder builder, string service, string host, int port, long maxRequestBodyBytes)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.WebHost.UseUrls(ListenUrl(host, port));
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MaxRequestBodySize = maxRequestBodyBytes);
        builder.Services.ConfigureHttpJsonOptions(options => LogQuotaJson.Configure(options.SerializerOptions, strict: true));
        builder.Services.AddProblemDetails(options => options.CustomizeProblemDetails = context => ProblemDetailsDefaults.FillDetail(context, service));
    }

    /// <summary>The first middleware of every service: failures as problem details, status codes with a body, and nosniff.</summary>
    public static void UseServiceDefaults(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.UseExceptionHandler();

        // Answers are data: a log served as text/plain must never be sniffed into HTML by a browser.
        app.Use((context, next) =>
        {
            context.Response.Headers.XContentTypeOptions = "nosniff";
            return next(context);
        });
        app.UseStatusCodePages();
    }

    /// <summary><c>http://host:port</c>, an IPv6 host in brackets (<c>::</c> and <c>[::]</c> both give <c>http://[::]:port</c>).</summary>
    public static string ListenUrl(string host, int port)
    {
        ArgumentNullException.ThrowIfNull(host);
        return $"http://{(host.Contains(':', StringComparison.Ordinal) && !host.StartsWith('[') ? $"[{host}]" : host)}:{port}";
    }

    /// <summary>Starts returning memory after bursts for the process, logging each return at Debug (an idle service logs nothing).</summary>
    public static MemoryReturn StartMemoryReturn(ILogger logger) =>
        new(TimeProvider.System, (before, after) =>
            logger.LogDebug("Memory returned after a burst: resident {Before} -> {After} bytes", before, after));

    /// <summary>
    /// Takes the lock of the service's directory <paramref name="dir"/> (the setting <paramref name="variable"/>); a
    /// directory that cannot be used is a bad setting, made by <paramref name="badSetting"/> from its line.
    /// </summary>
    public static DirectoryLock LockDirectory(string dir, string variable, Func<string, IOException, Exception> badSetting)
    {
        ArgumentNullException.ThrowIfNull(badSetting);
        try
        {
            return DirectoryLock.Acquire(dir);
        }
        catch (IOException e)
        {
            throw badSetting($"{variable}={dir} is unusable: {e.Message.TrimEnd('.')}", e);
        }
    }
}
