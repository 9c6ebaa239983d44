using System.Text.Json;
using LogQuota.Shared.Contracts;

namespace LogQuota.Runner.Tests;

/// <summary>The runner stores and serves a job's output as data: exactly the bytes, in pieces of at most 32 KiB, base64 on the wire.</summary>
public sealed class OutputIsDataTests : IAsyncLifetime
{
    private RunnerHost _runner = null!;

    public async Task InitializeAsync() => _runner = await RunnerHost.StartAsync();

    public async Task DisposeAsync() => await _runner.DisposeAsync();

    [Theory]
    [MemberData(nameof(HostileOutputs.InBothModes), MemberType = typeof(HostileOutputs))]
    public async Task Output_IsStoredAndPulledByteForByte(string name, bool tty)
    {
        var (command, stored) = HostileOutputs.All[name];

        var result = await _runner.RunAsync(new JobSpec([command], Tty: tty), TimeSpan.FromMinutes(3));

        Assert.Equal(JobState.Done, result.Final.State);
        Assert.True(stored.AsSpan().SequenceEqual(result.Bytes), HostileOutputs.Difference(stored, result.Bytes));
        HostileOutputs.AssertStoredInWholeLines(result.Logs.Select(e => e.Message).ToList(), stored.Length);
    }

    [Fact]
    public async Task OnTheWire_AMessageIsBase64_NeverRawBytesOrMarkup()
    {
        var (command, stored) = HostileOutputs.All["HTML and script"];
        var result = await _runner.RunAsync(new JobSpec([command, HostileOutputs.All["invalid UTF-8"].Command]));

        using var response = await _runner.Http.GetAsync($"/api/jobs/{result.JobId}/pull?timestamp=0");
        var json = await response.Content.ReadAsStringAsync();

        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("nosniff", string.Join(',', response.Headers.GetValues("X-Content-Type-Options")));
        Assert.DoesNotContain("<script>", json, StringComparison.Ordinal);
        using var document = JsonDocument.Parse(json);
        var messages = document.RootElement.GetProperty("job_logs").EnumerateArray()
            .SelectMany(e => Convert.FromBase64String(e.GetProperty("message").GetString()!)).ToArray();
        Assert.Equal([.. stored, .. HostileOutputs.All["invalid UTF-8"].Stored], messages);
    }
}
