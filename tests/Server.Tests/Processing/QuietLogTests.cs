using System.Net.Http;
using LogQuota.Server.Processing;
using LogQuota.Server.Runners;
using LogQuota.Shared.Contracts;
using Refit;

namespace LogQuota.Server.Tests.Processing;

/// <summary>Log lines that say only what is known, on one line each.</summary>
public sealed class QuietLogTests
{
    [Theory]
    [InlineData(JobState.Done, null, null, 0, "exit status 0")]
    [InlineData(JobState.Failed, TerminationReason.ContainerExitedWithError, null, 3, "container exited with error, exit status 3")]
    [InlineData(JobState.Failed, TerminationReason.LogQuotaExceeded, "Job log output exceeded the hourly quota of 100 bytes", null,
        "log quota exceeded: Job log output exceeded the hourly quota of 100 bytes")]
    [InlineData(JobState.Terminated, null, null, null, "no reason given")]
    public void FinalState_ReadsWithoutNulls(JobState state, TerminationReason? reason, string? message, int? exitStatus, string expected)
    {
        var line = JobStatusMapping.Describe(new JobStateEvent(state, 1, reason, message, exitStatus));

        Assert.Equal(expected, line);
        Assert.DoesNotContain("null", line, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task FailedRunnerCall_IsTheCausesTypeAndMessage_OnOneLine()
    {
        // A real refused connection on loopback, through Refit as the job processor makes it.
        int port;
        using (var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0))
        {
            listener.Start();
            port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        }

        var api = RestService.For<LogQuota.Shared.Api.IRunnerApi>($"http://127.0.0.1:{port}");
        var e = await Assert.ThrowsAnyAsync<Exception>(() => api.PullAsync(Guid.NewGuid(), 0, CancellationToken.None));

        var line = RunnerCallFailure.Describe(e);

        Assert.StartsWith("HttpRequestException: Connection refused", line, StringComparison.Ordinal);
        Assert.DoesNotContain("\n", line, StringComparison.Ordinal);
        Assert.DoesNotContain(" at ", line, StringComparison.Ordinal);
    }
}
