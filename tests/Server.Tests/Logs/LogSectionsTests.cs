using System.Net;
using System.Text;
using LogQuota.Server.Data;
using LogQuota.Server.Logs;
using LogQuota.Server.Tests.Infrastructure;
using LogQuota.Shared.Contracts;
using LogQuota.Shared.Json;
using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;

namespace LogQuota.Server.Tests.Logs;

/// <summary>
/// Sections end to end through the server and its embedded runner: a real job on a real pseudo-terminal prints GitLab's,
/// GitHub's and Buildkite's markers and fails inside the last section. The markers are in no view of the log and cost
/// nothing; <c>/sections</c> answers each fold with its lines (as the line look-up numbers them), its duration, and the
/// failing one open.
/// </summary>
public sealed class LogSectionsTests : IAsyncLifetime
{
    /// <summary>One section of each format, the last (Buildkite, asked collapsed) left open by a failing command.</summary>
    public const string Script =
        "printf 'start\\n'; " +
        "printf '\\033[0Ksection_start:%s:build[collapsed=true]\\r\\033[0KBuilding\\n' \"$(date +%s)\"; " +
        "printf 'compiling\\n'; " +
        "printf '\\033[0Ksection_end:%s:build\\r\\033[0K\\n' \"$(date +%s)\"; " +
        "printf '::group::Install\\nnpm ci\\n::endgroup::\\n'; " +
        "printf -- '--- Tests\\nok\\n'; " +
        "printf -- '--- Deploy\\ndeploying\\n'; exit 3";

    public const string Text = "start\nBuilding\ncompiling\nInstall\nnpm ci\nTests\nok\nDeploy\ndeploying\n";

    private ServerFactory Server { get; } = new();
    private HttpClient _client = null!;

    public Task InitializeAsync()
    {
        _client = Server.CreateAdminClient();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await Server.DisposeAsync();
    }

    [Fact]
    public async Task ARealJobsMarkers_BecomeFolds_WithTheFailingOneOpen_AndCostNothing()
    {
        var run = await RunAsync(Script, RunStatus.Failed);

        Assert.Equal(Text, Encoding.UTF8.GetString(await _client.GetLogsTextAsync(run)));
        Assert.Equal(Encoding.UTF8.GetByteCount(Text), (await _client.GetRunAsync(run)).LogBytesHour);
        await AssertFoldsAsync(_client, run);
    }

    /// <summary>What <see cref="Script"/>'s folds must be, on whichever database.</summary>
    internal static async Task AssertFoldsAsync(HttpClient client, string run)
    {
        var sections = await GetSectionsAsync(client, run);
        Assert.Equal(
            [
                (1, LogSectionFormat.Gitlab, "build", "Building", 2L, (long?)4L, true, false),
                (2, LogSectionFormat.Github, "group", "Install", 4L, 6L, true, false),
                (3, LogSectionFormat.Buildkite, "---", "Tests", 6L, 8L, true, false),
                (4, LogSectionFormat.Buildkite, "---", "Deploy", 8L, null, false, true),
            ],
            sections.Select(s => (s.Id, s.Format, s.Name, s.Title, s.StartLine, s.EndLine, s.Collapsed, s.Failed)));
        Assert.All(sections, s => Assert.Null(s.Parent));
        Assert.All(sections, s => Assert.NotNull(s.EndedAt));
        Assert.All(sections, s => Assert.InRange(s.DurationMs, 0, 90_000));

        // Each fold's first line is its header, as the line look-up finds it.
        foreach (var section in sections)
        {
            using var response = await client.GetAsync(new Uri($"/api/runs/{run}/logs?line={section.StartLine}", UriKind.Relative));
            var page = await response.Content.ReadFromJsonAsync<LogSearchResponse>(LogQuotaJson.Options);
            Assert.Equal(section.Title, page!.Matches.Single().Text);
        }
    }

    [Fact]
    public async Task ASucceedingJob_EndsItsOpenSectionWithTheJob_AndNoneFails()
    {
        var run = await RunAsync("printf '::group::Only\\nx\\n'", RunStatus.Done);

        var section = Assert.Single(await GetSectionsAsync(_client, run));
        Assert.Equal(("Only", 1L, (long?)null, true, false), (section.Title, section.StartLine, section.EndLine, section.Collapsed, section.Failed));
        Assert.NotNull(section.EndedAt);
    }

    [Fact]
    public async Task DeletingARun_DeletesItsSectionMarks()
    {
        var run = await RunAsync("printf '::group::A\\nx\\n::endgroup::\\n'", RunStatus.Done);
        Assert.NotEqual(0, await Server.QueryAsync(db => db.LogSectionMarks.CountAsync()));

        using var deleted = await _client.DeleteAsync(new Uri($"/api/runs/{run}", UriKind.Relative));
        Assert.True(deleted.IsSuccessStatusCode);

        Assert.Equal(0, await Server.QueryAsync(db => db.LogSectionMarks.CountAsync()));
    }

    [Fact]
    public async Task AnUnknownRun_IsA404ProblemInWords()
    {
        using var response = await _client.GetAsync(new Uri("/api/runs/no-such-run/sections", UriKind.Relative));
        Assert.Contains("Run 'no-such-run' does not exist.", await ApiClient.AssertProblemAsync(response, HttpStatusCode.NotFound), StringComparison.Ordinal);
    }

    private async Task<string> RunAsync(string command, RunStatus expected)
    {
        var run = await _client.SubmitAsync(new SubmitRunRequest([command]));
        Assert.Equal(expected, (await _client.WaitForEndAsync(run.RunName)).Status);
        return run.RunName;
    }

    private static async Task<IReadOnlyList<LogSection>> GetSectionsAsync(HttpClient client, string run)
    {
        using var response = await client.GetAsync(new Uri($"/api/runs/{run}/sections", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<LogSectionsResponse>(LogQuotaJson.Options))!.Sections;
    }
}

/// <summary>How marks become folds (<see cref="LogSections.Build"/>): nesting, ends, expands, and which section failed.</summary>
public sealed class LogSectionsBuildTests
{
    private static readonly DateTimeOffset T0 = DateTimeOffset.Parse("2026-12-06T12:00:00Z", System.Globalization.CultureInfo.InvariantCulture);

    private static LogSectionMarkEntity Mark(long ms, LogSectionMarkKind kind, int section, long line, int? parent = null, bool collapsed = true) => new()
    {
        Timestamp = T0.AddMilliseconds(ms).ToUnixTimeMilliseconds(), Kind = kind, Section = section, Line = line, Parent = parent,
        Collapsed = collapsed, Format = kind == LogSectionMarkKind.Start ? LogSectionFormat.Gitlab : null, Name = kind == LogSectionMarkKind.Start ? $"s{section}" : null,
    };

    [Fact]
    public void AFailedJob_OpensItsInnermostOpenSection_AndTheOnesAroundIt()
    {
        var sections = LogSections.Build(
            [
                Mark(0, LogSectionMarkKind.Start, 1, 1),
                Mark(100, LogSectionMarkKind.Start, 2, 2, parent: 1),
                Mark(250, LogSectionMarkKind.End, 2, 5),
                Mark(300, LogSectionMarkKind.Start, 3, 5, parent: 1),
            ],
            JobStatus.Failed, T0.AddSeconds(2), T0.AddSeconds(10));

        Assert.Equal(
            [(1, false, false, (long?)null, 2000L), (2, true, false, 5L, 150L), (3, false, true, null, 1700L)],
            sections.Select(s => (s.Id, s.Collapsed, s.Failed, s.EndLine, s.DurationMs)));
        Assert.Equal("s1", sections[0].Title);
    }

    [Fact]
    public void ARunningJob_HasOpenSections_TimedToNow_AndNoneFailed()
    {
        var sections = LogSections.Build([Mark(0, LogSectionMarkKind.Start, 1, 1)], JobStatus.Running, null, T0.AddSeconds(3));

        var section = Assert.Single(sections);
        Assert.Equal((null, 3000L, false, true), (section.EndedAt, section.DurationMs, section.Failed, section.Collapsed));
    }

    [Fact]
    public void AnExpand_OpensASection_AndStrayMarksAreIgnored()
    {
        var sections = LogSections.Build(
            [
                Mark(0, LogSectionMarkKind.Start, 1, 1),
                Mark(10, LogSectionMarkKind.End, 9, 2),
                Mark(20, LogSectionMarkKind.Expand, 1, 2),
                Mark(30, LogSectionMarkKind.End, 1, 3),
                Mark(40, LogSectionMarkKind.End, 1, 7),
            ],
            JobStatus.Done, T0.AddSeconds(1), T0.AddSeconds(1));

        var section = Assert.Single(sections);
        Assert.Equal((false, (long?)3L, 30L), (section.Collapsed, section.EndLine, section.DurationMs));
    }
}
