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

    [Fact]
    public async Task SizesAndDurations_TakeTheCliUnits()
    {
        await using var server = new ServerFactory(
            new Dictionary<string, string> { ["DSTACK_SERVER_RUNNERS"] = "http://127.0.0.1:9/" },
            configureServices: services => services.AddSingleton<TimeProvider>(new FakeTimeProvider(DateTimeOffset.UtcNow)));
        using var browser = await SignedInAsync(server);

        using var accepted = await browser.PostFormAsync("/runs/new",
            ("commands", "make train"), ("run_name", "units"), ("log_quota_hour", "10MiB"), ("max_duration", "2h"), ("columns", "120"));

        Assert.Equal(HttpStatusCode.Redirect, accepted.StatusCode);
        var spec = await server.QueryAsync(db => db.Jobs.Select(j => j.Spec).SingleAsync());
        Assert.Equal(10L << 20, spec.LogQuotaHour);
        Assert.Equal(7200, spec.MaxDuration);
        Assert.Equal(120, spec.Columns);
    }

    [Fact]
    public async Task EveryBadField_IsAnsweredInOneRound_InPlainWords_EachMarkedBesideItsField()
    {
        await using var server = new ServerFactory(
            new Dictionary<string, string> { ["DSTACK_SERVER_RUNNERS"] = "http://127.0.0.1:9/" },
            configureServices: services => services.AddSingleton<TimeProvider>(new FakeTimeProvider(DateTimeOffset.UtcNow)));
        using var browser = await SignedInAsync(server);
        using (var first = await browser.PostFormAsync("/runs/new", ("commands", "make train"), ("run_name", "taken")))
        {
            Assert.Equal(HttpStatusCode.Redirect, first.StatusCode);
        }

        // Fields the form cannot read (quota, duration, width) and fields only the API refuses (name, quota above the
        // server's, environment, working directory): all in the one answer.
        using var refused = await browser.PostFormAsync("/runs/new",
            ("commands", "make train"), ("run_name", "Bad Name!"), ("log_quota_hour", "lots"), ("max_duration", "soon"),
            ("columns", "5"), ("env", "1A=x"), ("working_dir", "../data"));
        var page = WebUtility.HtmlDecode(await refused.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        var expected = new Dictionary<string, string>
        {
            ["run_name"] = "run_name 'Bad Name!' must be a lowercase letter, then up to 40 lowercase letters, digits or dashes.",
            ["log_quota_hour"] = "The quota must be a size such as 100MiB or 1GiB, or a number of bytes; got 'lots'.",
            ["max_duration"] = "The max duration must be a duration such as 90m, 2h or 1d, or a number of seconds; got 'soon'.",
            ["columns"] = "columns must be a terminal width from 20 to 1000 characters; got 5.",
            ["env"] = "env name '1A' must be letters, digits and _, not starting with a digit.",
            ["working_dir"] = "working_dir '../data' must stay inside the code directory: a relative path may not contain '..' segments.",
        };
        foreach (var (field, message) in expected)
        {
            Assert.Contains($"<p id=\"{field}-error\" class=\"field-error\">{message}</p>", page, StringComparison.Ordinal);
            Assert.Matches($"id=\"{field}\"[^>]*aria-invalid=\"true\" aria-describedby=\"{field}-error\"", page);
        }

        Assert.Contains("see the 6 fields marked below.", page, StringComparison.Ordinal);
        Assert.DoesNotContain("^[", page, StringComparison.Ordinal);

        // A quota above the server's is said in units; a taken name is told with the other problems, not after them.
        using var second = await browser.PostFormAsync("/runs/new",
            ("commands", "make train"), ("run_name", "taken"), ("log_quota_hour", "100MiB"), ("max_duration", "soon"));
        page = WebUtility.HtmlDecode(await second.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.BadRequest, second.StatusCode);
        Assert.Contains("<p id=\"log_quota_hour-error\" class=\"field-error\">log_quota_hour 100MiB is above the server's quota of 50MiB per hour; ask for 50MiB or less.</p>", page, StringComparison.Ordinal);
        Assert.Contains("<p id=\"run_name-error\" class=\"field-error\">A run named 'taken' already exists;", page, StringComparison.Ordinal);
        Assert.Contains("<p id=\"max_duration-error\"", page, StringComparison.Ordinal);
        Assert.Equal(1, (await server.CountRowsAsync()).Runs);
    }

    private static async Task<HttpClient> SignedInAsync(ServerFactory server)
    {
        var browser = server.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });
        using var signedIn = await browser.PostFormAsync("/signin", ("token", ServerFactory.AdminToken));
        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
        return browser;
    }
}
