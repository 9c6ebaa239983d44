using System.Net.Http.Json;
using System.Text;
using LogQuota.Shared.Contracts;
using LogQuota.Shared.Json;

namespace LogQuota.Runner.Tests.Isolation;

/// <summary>
/// SPEC §7, memory: with <c>DSTACK_RUNNER_JOB_MEMORY_MAX</c> each job has a memory limit of its own; a job that passes
/// it loses a process to the kernel and ends <c>failed</c> / <c>out_of_memory</c> with its log, and its neighbour,
/// under the same runner, goes on untouched.
/// </summary>
[Collection(IsolationTestsRunAlone.Name)]
public sealed class MemoryLimitTests
{
    private const long Limit = 64L << 20;

    [SkippableFact]
    public async Task AJobPastItsMemoryLimit_EndsOutOfMemory_WithItsLog_AndItsNeighbourFinishesDone()
    {
        var whyNot = Privileged.WhyNotRoot();
        Skip.If(whyNot is not null, whyNot);
        Skip.If(!File.Exists("/sys/fs/cgroup/memory/memory.limit_in_bytes"), "no cgroup v1 memory hierarchy here (a v2 memory.max is not used yet)");
        await using var runner = await RunnerHost.StartAsync(jobMemoryMax: Limit);
        var health = (await runner.Http.GetFromJsonAsync<HealthcheckResponse>("/api/healthcheck", LogQuotaJson.Options))!;
        Assert.Equal(Limit, health.Isolation!.MemoryMax);

        var neighbour = Guid.NewGuid();
        await runner.Api.SubmitAsync(new SubmitBody(neighbour, new RunRef(Guid.NewGuid(), "neighbour"),
            new JobSpec(["for i in $(seq 1 20); do echo n-$i; sleep 0.1; done"])), CancellationToken.None);

        // tail -c keeps the last 300 MiB it read in memory: far past the 64 MiB limit.
        var bomb = await runner.RunAsync(new JobSpec(["echo start; head -c 300M /dev/zero | tail -c 300M > /dev/null"]));
        var calm = await runner.PullToEndAsync(neighbour);

        Assert.Equal(JobState.Failed, bomb.Final.State);
        Assert.Equal(TerminationReason.OutOfMemory, bomb.Final.TerminationReason);
        Assert.Contains($"memory limit of {Limit} bytes", bomb.Final.TerminationMessage, StringComparison.Ordinal);
        Assert.StartsWith("start\n", bomb.Text, StringComparison.Ordinal);
        Assert.Equal(JobState.Done, calm.Final.State);
        Assert.Equal(string.Concat(Enumerable.Range(1, 20).Select(i => $"n-{i}\n")), calm.Text);
    }

    [SkippableFact]
    public async Task AJobUnderItsLimit_IsDone()
    {
        var whyNot = Privileged.WhyNotRoot();
        Skip.If(whyNot is not null, whyNot);
        Skip.If(!File.Exists("/sys/fs/cgroup/memory/memory.limit_in_bytes"), "no cgroup v1 memory hierarchy here");
        await using var runner = await RunnerHost.StartAsync(jobMemoryMax: Limit);

        var result = await runner.RunAsync(new JobSpec(["head -c 16M /dev/zero | tail -c 16M | wc -c"]));

        Assert.Equal(JobState.Done, result.Final.State);
        Assert.Equal($"{16 << 20}\n", result.Text.Replace(" ", "", StringComparison.Ordinal));
    }
}
