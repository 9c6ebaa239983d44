using System.Net;
using LogQuota.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace LogQuota.Server.Tests.Web;

/// <summary>The web page's submit form (<c>/runs/new</c>) posted as a browser posts it: signed in, with the antiforgery field.</summary>
public sealed class NewRunFormTests
{
    [Fact]
    public async Task TheWorkingDirectory_IsCheckedAsTheApiChecksIt_InTheSameWords()
    {
        // A runner nobody answers at, and frozen time: the run stays as submitted.
        await using var server = new ServerFactory(
            new Dictionary<string, string> { ["DSTACK_SERVER_RUNNERS"] = "http://127.0.0.1:9/" },
            configureServices: services => services.AddSingleton<TimeProvider>(new FakeTimeProvider(DateTimeOffset.UtcNow)));
        using var browser = server.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });
        using (var signedIn = await browser.PostFormAsync("/signin", ("token", ServerFactory.AdminToken)))
        {
            Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
        }

        using var refused = await browser.PostFormAsync("/runs/new", ("commands", "make train"), ("working_dir", "../data"));
        var page = await refused.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains(
            "<p id=\"working_dir-error\" class=\"field-error\">working_dir '../data' must stay inside the code directory: a relative path may not contain '..' segments.</p>",
            WebUtility.HtmlDecode(page), StringComparison.Ordinal);
        Assert.Contains("value=\"../data\"", page, StringComparison.Ordinal);
        Assert.Equal(0, (await server.CountRowsAsync()).Runs);

        using var accepted = await browser.PostFormAsync("/runs/new", ("commands", "make train"), ("run_name", "in-src"), ("working_dir", " src "));
        Assert.Equal(HttpStatusCode.Redirect, accepted.StatusCode);
        Assert.Equal("/runs/in-src", accepted.Headers.Location?.ToString());
        Assert.Equal("src", (await server.QueryAsync(db => db.Jobs.Select(j => j.Spec).SingleAsync())).WorkingDir);
    }

    [Fact]
    public async Task TheResourceFields_AreCheckedAsTheApiChecksThem_NextToTheirField()
    {
        await using var server = new ServerFactory();
        using var browser = server.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });
        using (var signedIn = await browser.PostFormAsync("/signin", ("token", ServerFactory.AdminToken)))
        {
            Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
        }

        using var unreadable = await browser.PostFormAsync("/runs/new", ("commands", "make train"), ("memory", "lots"), ("cpus", "half"));
        var page = WebUtility.HtmlDecode(await unreadable.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.BadRequest, unreadable.StatusCode);
        Assert.Contains("<p id=\"resources.memory-error\" class=\"field-error\">Memory must be a size such as 512MiB or 8GiB; got 'lots'.</p>", page, StringComparison.Ordinal);
        Assert.Contains("<p id=\"resources.cpus-error\" class=\"field-error\">CPUs must be a number such as 0.5 or 2; got 'half'.</p>", page, StringComparison.Ordinal);

        // No runner has a thousand GPUs: the API's refusal, in its words, next to the field.
        using var tooMany = await browser.PostFormAsync("/runs/new", ("commands", "make train"), ("gpus", "1000"));
        page = WebUtility.HtmlDecode(await tooMany.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.BadRequest, tooMany.StatusCode);
        Assert.Contains("<p id=\"resources.gpus-error\" class=\"field-error\">resources.gpus 1000 is more than any runner has: ", page, StringComparison.Ordinal);
        Assert.Contains("value=\"1000\"", page, StringComparison.Ordinal);
        Assert.Equal(0, (await server.CountRowsAsync()).Runs);

        using var accepted = await browser.PostFormAsync("/runs/new", ("commands", "make train"), ("run_name", "no-gpu"), ("gpus", "0"));
        Assert.Equal(HttpStatusCode.Redirect, accepted.StatusCode);
        Assert.Null((await server.QueryAsync(db => db.Jobs.Select(j => j.Spec).SingleAsync())).Resources);
    }
}
