using System.Text;
using LogQuota.Shared.Contracts;

namespace LogQuota.Runner.Tests;

/// <summary>
/// A job's secret values never reach its stored log, its live region or its dropped tail, on a real runner with real
/// jobs under a pseudo-terminal: printed whole, split across two writes a second apart, inside a progress bar redrawn
/// 1,000 times, and wrapped over two screen rows; and <c>***</c> is what the quota counts.
/// </summary>
public sealed class SecretMaskingTests : IAsyncLifetime
{
    // 40 characters: long enough that the wrap case below cuts it in two halves of 20.
    private static readonly string Secret = "hf_" + Convert.ToHexString([.. Guid.NewGuid().ToByteArray(), .. Guid.NewGuid().ToByteArray()]).ToLowerInvariant()[..37];

    private RunnerHost _runner = null!;

    public async Task InitializeAsync() => _runner = await RunnerHost.StartAsync();

    public async Task DisposeAsync() => await _runner.DisposeAsync();

    [Fact]
    public async Task EveryWayOfPrintingTheValue_IsStoredAsStars_AndCountedAsStars()
    {
        var script = string.Join("; ",
            """printf 'whole %s\n' "$HF_TOKEN" """,
            """printf 'split %s' "$(printf %s "$HF_TOKEN" | cut -c1-20)" """,
            "sleep 1",
            """printf '%s end\n' "$(printf %s "$HF_TOKEN" | cut -c21-)" """,
            """i=0; while [ $i -lt 1000 ]; do printf '\rbar %d %s' $i "$HF_TOKEN"; i=$((i+1)); done; printf '\n'""",
            // 180 columns, then the value: its first 20 characters end the 200-column row, the other 20 begin the next.
            """printf '%0180d%s wrapped\n' 0 "$HF_TOKEN" """);

        var result = await RunAsync(new JobSpec([script], Secrets: ["HF_TOKEN"]));

        var expected = "whole ***\nsplit *** end\nbar 999 ***\n" + new string('0', 180) + "*** wrapped\n";
        Assert.Equal(JobState.Done, result.Final.State);
        Assert.Equal(expected, result.AllText);
        Assert.Equal(Encoding.UTF8.GetByteCount(expected), result.LogBytesHour);
    }

    [Fact]
    public async Task TheLiveRegion_ShowsStars_ForAWholeValue_AndForOneHalfWritten()
    {
        var jobId = Guid.NewGuid();
        var script = """printf 'live %s then %s' "$HF_TOKEN" "$(printf %s "$HF_TOKEN" | cut -c1-20)"; sleep 600""";
        await _runner.Api.SubmitAsync(Body(jobId, new JobSpec([script], Secrets: ["HF_TOKEN"])), CancellationToken.None);

        var live = await WaitForLiveAsync(jobId, "live *** then ***");
        Assert.DoesNotContain(Secret[..SecretRules.MinValueLength], live, StringComparison.Ordinal);

        await _runner.Api.StopAsync(jobId, new StopBody(), CancellationToken.None);
        var result = await _runner.PullToEndAsync(jobId);
        Assert.Equal(JobState.Terminated, result.Final.State);
        Assert.DoesNotContain(Secret[..20], result.AllText, StringComparison.Ordinal);
        Assert.StartsWith("live *** then ", result.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheDroppedTail_AndTheRepeatedLines_HoldStars()
    {
        var script = """seq 1 100; i=0; while [ $i -lt 50 ]; do printf 'dropped %s\n' "$HF_TOKEN"; i=$((i+1)); done""";
        var result = await RunAsync(new JobSpec([script], LogQuotaHour: 200, LogQuotaAction: LogQuotaAction.Truncate, LogQuotaWarnAt: [], Secrets: ["HF_TOKEN"]));

        Assert.Equal(JobState.Done, result.Final.State);
        Assert.Contains("dropped ***\n", result.RunnerText, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, result.AllText, StringComparison.Ordinal);
        var top = result.Quota!.Report!.TopLines;
        Assert.Contains(top, line => line.Line == "dropped ***" && line.Count == 50);
        Assert.DoesNotContain(top, line => line.Line.Contains(Secret[..SecretRules.MinValueLength], StringComparison.Ordinal));

        // Dropped bytes are the masked ones too: 100 lines of seq (292 bytes) and 50 of "dropped ***\n" were written in all.
        Assert.Equal(292 + (50 * "dropped ***\n".Length), result.Quota.DroppedBytes + result.LogBytesHour);
    }

    [Fact]
    public async Task TheJobGetsTheValue_InItsEnvironment()
    {
        var result = await RunAsync(new JobSpec(["""[ "$HF_TOKEN" = "$EXPECTED" ] && echo same"""], Env: new Dictionary<string, string> { ["EXPECTED"] = Secret }, Secrets: ["HF_TOKEN"]));

        Assert.Equal(JobState.Done, result.Final.State);
        Assert.Equal("same\n", result.Text);
    }

    [Fact]
    public async Task ASubmit_WhoseSecretsAndValuesDisagree_IsRefused()
    {
        var named = await _runner.Http.PostAsync(new Uri("/api/jobs", UriKind.Relative), Json(new SubmitBody(Guid.NewGuid(), new RunRef(Guid.NewGuid(), "test-run"), new JobSpec(["true"], Secrets: ["HF_TOKEN"]))));
        var unnamed = await _runner.Http.PostAsync(new Uri("/api/jobs", UriKind.Relative), Json(new SubmitBody(Guid.NewGuid(), new RunRef(Guid.NewGuid(), "test-run"), new JobSpec(["true"]), new Dictionary<string, string> { ["HF_TOKEN"] = Secret })));

        Assert.Equal(System.Net.HttpStatusCode.BadRequest, named.StatusCode);
        Assert.Contains("no value for it", await named.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, unnamed.StatusCode);
        Assert.DoesNotContain(Secret, await unnamed.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    private static SubmitBody Body(Guid jobId, JobSpec spec) =>
        new(jobId, new RunRef(Guid.NewGuid(), "test-run"), spec, new Dictionary<string, string> { ["HF_TOKEN"] = Secret });

    private static StringContent Json(object body) =>
        new(System.Text.Json.JsonSerializer.Serialize(body, LogQuota.Shared.Json.LogQuotaJson.Options), Encoding.UTF8, "application/json");

    private async Task<JobResult> RunAsync(JobSpec spec)
    {
        var jobId = Guid.NewGuid();
        await _runner.Api.SubmitAsync(Body(jobId, spec), CancellationToken.None);
        return await _runner.PullToEndAsync(jobId, TimeSpan.FromSeconds(90));
    }

    private async Task<string> WaitForLiveAsync(Guid jobId, string wanted)
    {
        var deadline = DateTime.UtcNow.AddSeconds(90);
        var last = "";
        while (true)
        {
            var pull = await _runner.Api.PullAsync(jobId, 0, CancellationToken.None);
            last = pull.Live is null ? "" : Encoding.UTF8.GetString(pull.Live);
            if (last == wanted)
            {
                return last;
            }

            Assert.True(DateTime.UtcNow < deadline, $"waited 90 s for the live region to read '{wanted}'; it read '{last}'");
            await Task.Delay(50);
        }
    }
}
