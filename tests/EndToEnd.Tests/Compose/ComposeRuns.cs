using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using LogQuota.Shared.Contracts;
using LogQuota.Shared.Json;
using Xunit.Abstractions;

namespace LogQuota.EndToEnd.Tests.Compose;

/// <summary>
/// What the compose tests do through a server's API (the default stack's server, or the <c>postgres</c> profile's
/// balancer): submit, wait for a state with a deadline, read a run and its stored log; and each step timed.
/// </summary>
public static class ComposeRuns
{
    /// <summary>The longest a run is waited for; the message then says in which state it was.</summary>
    public static readonly TimeSpan RunTimeout = TimeSpan.FromSeconds(120);

    /// <summary>Runs one named step of a compose test, prints its time, and names it in its failure.</summary>
    public static async Task StepAsync(ITestOutputHelper log, string name, Func<Task> body)
    {
        var watch = Stopwatch.StartNew();
        try
        {
            await body();
        }
        catch (Exception e) when (e is not Xunit.Sdk.XunitException)
        {
            throw new InvalidOperationException($"step '{name}' failed: {e.Message}", e);
        }
        catch (Xunit.Sdk.XunitException e)
        {
            throw new Xunit.Sdk.XunitException($"step '{name}': {e.Message}");
        }

        log.WriteLine($"{name}: {watch.Elapsed.TotalSeconds:0.0} s");
    }

    public static async Task Submit(HttpClient server, SubmitRunRequest request, CancellationToken ct)
    {
        using var response = await server.PostAsJsonAsync("/api/runs", request, LogQuotaJson.Options, ct);
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync(ct));
    }

    public static async Task<RunDetails> Details(HttpClient server, string runName, CancellationToken ct) =>
        (await server.GetFromJsonAsync<RunDetails>($"/api/runs/{runName}", LogQuotaJson.Options, ct))!;

    public static Task<RunDetails> WaitFinished(HttpClient server, string runName, CancellationToken ct) =>
        WaitFor(server, runName, r => r.Status is RunStatus.Done or RunStatus.Failed or RunStatus.Terminated, ct);

    public static async Task<RunDetails> WaitFor(HttpClient server, string runName, Func<RunDetails, bool> done, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + RunTimeout;
        while (true)
        {
            var run = await Details(server, runName, ct);
            if (done(run))
            {
                return run;
            }

            Assert.True(DateTime.UtcNow < deadline, $"run {runName} still {run.Status} ({run.StatusMessage}) after {RunTimeout.TotalSeconds:0} s");
            await Task.Delay(200, ct);
        }
    }

    /// <summary>The job's stored output as text (<c>format=text&amp;source=job</c>).</summary>
    public static async Task<string> LogText(HttpClient server, string runName, CancellationToken ct) =>
        Encoding.UTF8.GetString(await server.GetByteArrayAsync(new Uri($"/api/runs/{runName}/logs?format=text&source=job", UriKind.Relative), ct));
}
