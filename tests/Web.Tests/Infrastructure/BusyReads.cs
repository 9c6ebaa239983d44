using System.Collections.Concurrent;
using Microsoft.Playwright;

namespace LogQuota.Web.Tests.Infrastructure;

/// <summary>A page's reads that answer 503 the first times, as a busy server does (the browser's edge: nothing else is faked).</summary>
public sealed class BusyReads(IPage page)
{
    /// <summary>The addresses answered 503.</summary>
    public ConcurrentQueue<string> Failed { get; } = new();

    /// <summary>Reads whose address matches <paramref name="url"/> fail the first <paramref name="failures"/> times; the function returned counts every such read.</summary>
    public async Task<Func<int>> FailFirstAsync(Func<string, bool> url, int failures)
    {
        var reads = 0;
        await page.RouteAsync(url, route => Interlocked.Increment(ref reads) <= failures ? UnavailableAsync(route) : route.ContinueAsync());
        return () => Volatile.Read(ref reads);
    }

    private Task UnavailableAsync(IRoute route)
    {
        Failed.Enqueue(route.Request.Url);
        return route.FulfillAsync(new()
        {
            Status = 503,
            ContentType = "application/problem+json",
            Headers = new Dictionary<string, string> { ["Retry-After"] = "1" },
            Body = """{"title":"Service Unavailable","status":503,"detail":"The database is busy; try again."}""",
        });
    }
}
