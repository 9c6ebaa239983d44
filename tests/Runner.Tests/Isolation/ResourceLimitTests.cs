using System.Net;
using System.Net.Http.Json;
using System.Text;
using LogQuota.Shared.Contracts;
using LogQuota.Shared.Json;
using Microsoft.AspNetCore.Mvc;

namespace LogQuota.Runner.Tests.Isolation;

/// <summary>
/// SPEC §9, resources: a run's <c>resources.memory</c> and <c>resources.cpus</c> are limits of its job's cgroup v1 groups,
/// with real jobs; what the runner cannot give is refused at submit with 400 naming the field; the health check says what
/// it can give.
/// </summary>
[Collection(IsolationTestsRunAlone.Name)]
public sealed class ResourceLimitTests
{
    [SkippableFact]
    public async Task AJobAskingLittleMemory_EndsOutOfMemory_WithItsLog_AndItsNeighbourFinishesDone()
    {
        SkipUnlessRootWith("/sys/fs/cgroup/memory/memory.limit_in_bytes");
        const long asked = 32L << 20;

        // No DSTACK_RUNNER_JOB_MEMORY_MAX: the run's request alone limits it, and the neighbour has no limit at all.
        await using var runner = await RunnerHost.StartAsync();
        var health = (await runner.Http.GetFromJsonAsync<HealthcheckResponse>("/api/healthcheck", LogQuotaJson.Options))!;
        Assert.True(health.Resources!.Memory > asked, $"the runner should offer memory limits: {health.Resources}");
        Assert.Null(health.Isolation!.MemoryMax);

        var neighbour = Guid.NewGuid();
        await runner.Api.SubmitAsync(new SubmitBody(neighbour, new RunRef(Guid.NewGuid(), "neighbour"),
            new JobSpec(["for i in $(seq 1 20); do echo n-$i; sleep 0.1; done; head -c 64M /dev/zero | tail -c 64M | wc -c"])), CancellationToken.None);

        // tail -c keeps the last 200 MiB it read in memory: far past the 32 MiB asked.
        var bomb = await runner.RunAsync(new JobSpec(["echo start; head -c 200M /dev/zero | tail -c 200M > /dev/null"],
            Resources: new JobResources(Memory: asked)), TimeSpan.FromSeconds(90));
        var calm = await runner.PullToEndAsync(neighbour, TimeSpan.FromSeconds(90));

        Assert.Equal(JobState.Failed, bomb.Final.State);
        Assert.Equal(TerminationReason.OutOfMemory, bomb.Final.TerminationReason);
        Assert.Contains($"memory limit of {asked} bytes", bomb.Final.TerminationMessage, StringComparison.Ordinal);
        Assert.StartsWith("start\n", bomb.Text, StringComparison.Ordinal);
        Assert.Equal(JobState.Done, calm.Final.State);
        Assert.EndsWith($"n-20\n{64 << 20}\n", calm.Text.Replace(" ", "", StringComparison.Ordinal), StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task AJobAskingHalfACpu_RunsInACpuGroupWithACfsQuotaOfHalfItsPeriod_RemovedWhenItEnds()
    {
        var mount = CpuMount();
        Skip.If(mount is null, "no cgroup v1 cpu hierarchy is mounted here");
        SkipUnlessRootWith($"{mount}/cpu.cfs_quota_us");
        await using var runner = await RunnerHost.StartAsync();
        var health = (await runner.Http.GetFromJsonAsync<HealthcheckResponse>("/api/healthcheck", LogQuotaJson.Options))!;
        Assert.Equal(Environment.ProcessorCount, health.Resources!.Cpus);

        var jobId = Guid.NewGuid();
        await runner.Api.SubmitAsync(new SubmitBody(jobId, new RunRef(Guid.NewGuid(), "half-a-cpu"),
            new JobSpec(["grep -E '^[0-9]+:([^:]*,)?cpu(,[^:]*)?:' /proc/self/cgroup; echo ready; sleep 600"], Tty: false,
                Resources: new JobResources(Cpus: 0.5))), CancellationToken.None);
        var text = await WaitForOutputAsync(runner, jobId, "ready\n");

        // The job's own view of its group: "4:cpu:/<the runner's group>/logquota-<hash>/job-<id>".
        var group = mount + text.Split('\n')[0].Split(':', 3)[2];
        Assert.EndsWith($"/job-{jobId:N}", group, StringComparison.Ordinal);
        Assert.Equal("100000", File.ReadAllText($"{group}/cpu.cfs_period_us").Trim());
        Assert.Equal("50000", File.ReadAllText($"{group}/cpu.cfs_quota_us").Trim());

        await runner.Api.StopAsync(jobId, new StopBody(), CancellationToken.None);
        var result = await runner.PullToEndAsync(jobId, TimeSpan.FromSeconds(90));
        Assert.Equal(JobState.Terminated, result.Final.State);
        Assert.False(Directory.Exists(group), $"{group} should be removed once the job has ended");
    }

    [Fact]
    public async Task ARequestTheRunnerCannotGive_IsRefused400_NamingTheField()
    {
        await using var runner = await RunnerHost.StartAsync(jobMemoryMax: 64L << 20);
        var capacity = (await runner.Http.GetFromJsonAsync<HealthcheckResponse>("/api/healthcheck", LogQuotaJson.Options))!.Resources!;

        // More GPUs than the host has, more CPUs than it has, more memory than DSTACK_RUNNER_JOB_MEMORY_MAX (or any memory
        // where the runner cannot limit it): each refused before anything runs, naming the field.
        await AssertRefusedAsync(runner, new JobResources(Gpus: capacity.Gpus + 1), "job_spec.resources.gpus: resources.gpus");
        await AssertRefusedAsync(runner, new JobResources(Cpus: Environment.ProcessorCount + 1), "job_spec.resources.cpus: resources.cpus");
        await AssertRefusedAsync(runner, new JobResources(Memory: 128L << 20), "job_spec.resources.memory: resources.memory 128MiB");

        // Whatever the host, these are no requests at all.
        await AssertRefusedAsync(runner, new JobResources(Cpus: 0), "job_spec.resources.cpus: resources.cpus must be a number of CPUs from 0.01");
        await AssertRefusedAsync(runner, new JobResources(Memory: 1000), "job_spec.resources.memory: resources.memory must be at least 4MiB");
        await AssertRefusedAsync(runner, new JobResources(Gpus: -1), "job_spec.resources.gpus: resources.gpus must be a whole number of GPUs of at least 0");
    }

    [Fact]
    public async Task TheSameJobAgainWithOtherResources_IsAConflict()
    {
        await using var runner = await RunnerHost.StartAsync();
        var body = new SubmitBody(Guid.NewGuid(), new RunRef(Guid.NewGuid(), "r"), new JobSpec(["true"], Resources: new JobResources(Gpus: 0)));

        using var first = await runner.Http.PostAsJsonAsync("/api/jobs", body, LogQuotaJson.Options);
        using var again = await runner.Http.PostAsJsonAsync("/api/jobs", body with { JobSpec = body.JobSpec with { Resources = new JobResources(Gpus: 0) } }, LogQuotaJson.Options);
        using var other = await runner.Http.PostAsJsonAsync("/api/jobs", body with { JobSpec = body.JobSpec with { Resources = null } }, LogQuotaJson.Options);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, other.StatusCode);
        await runner.PullToEndAsync(body.JobId);
    }

    private static async Task AssertRefusedAsync(RunnerHost runner, JobResources resources, string detailStart)
    {
        var body = new SubmitBody(Guid.NewGuid(), new RunRef(Guid.NewGuid(), "refused"), new JobSpec(["echo never"], Resources: resources));
        using var response = await runner.Http.PostAsJsonAsync("/api/jobs", body, LogQuotaJson.Options);
        var problem = await response.Content.ReadFromJsonAsync<ProblemDetails>();
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.StartsWith(detailStart, problem!.Detail, StringComparison.Ordinal);
    }

    private static async Task<string> WaitForOutputAsync(RunnerHost runner, Guid jobId, string marker)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var text = new StringBuilder();
        long cursor = 0;
        while (!text.ToString().Contains(marker, StringComparison.Ordinal))
        {
            Assert.False(deadline.IsCancellationRequested, $"waited 90 s for the job to print '{marker.Trim()}'; it printed: {text}");
            var pull = await runner.Api.PullAsync(jobId, cursor, deadline.Token);
            cursor = pull.LastUpdated;
            foreach (var log in pull.JobLogs)
            {
                text.Append(Encoding.UTF8.GetString(log.Message));
            }

            Assert.DoesNotContain(pull.JobStates, s => s.State.IsFinal());
            await Task.Delay(20, deadline.Token);
        }

        return text.ToString();
    }

    /// <summary>Where the cgroup v1 cpu hierarchy is mounted (<c>/sys/fs/cgroup/cpu</c>, or <c>cpu,cpuacct</c>), or null.</summary>
    private static string? CpuMount() => File.ReadLines("/proc/self/mountinfo")
        .Select(l => l.Split(" - ", 2))
        .Where(p => p.Length == 2 && p[1].StartsWith("cgroup ", StringComparison.Ordinal) && p[1].Split(' ')[^1].Split(',').Contains("cpu"))
        .Select(p => p[0].Split(' ')[4])
        .FirstOrDefault();

    private static void SkipUnlessRootWith(string controllerFile)
    {
        var whyNot = Privileged.WhyNotRoot();
        Skip.If(whyNot is not null, whyNot);
        Skip.If(!File.Exists(controllerFile), $"no {controllerFile} here");
    }
}
