using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using LogQuota.Shared.Api;
using LogQuota.Shared.Contracts;
using LogQuota.Shared.Json;
using Refit;

namespace LogQuota.Runner.Tests.Slurm;

/// <summary>The Slurm executor when Slurm's controller goes away, and when the runner itself is killed.</summary>
[Collection(OneSlurmCluster.Name)]
public sealed class SlurmFaultTests
{
    [SkippableFact]
    public async Task ControllerStoppedAndStarted_WhileAJobRuns_LosesNothing_AndItsAllocationIsReleasedWhenItReturns()
    {
        using var cluster = SlurmCluster.Require();
        var flag = Directory.CreateTempSubdirectory("logquota-slurm-flag-").FullName;
        var controllerStopped = false;
        try
        {
            await using var runner = await RunnerHost.StartAsync(slurm: []);
            var jobId = Guid.NewGuid();
            var go = Path.Combine(flag, "go");
            await runner.Api.SubmitAsync(new SubmitBody(jobId, new RunRef(Guid.NewGuid(), "outage"),
                new JobSpec([$"i=0; while [ ! -e {go} ]; do i=$((i+1)); echo tick $i; sleep 0.1; done; echo finished"])), CancellationToken.None);
            await runner.WaitUntilAsync(jobId, r => r.Text.Contains("tick 1\n", StringComparison.Ordinal), "the job's first tick");

            await SlurmCluster.StopControllerAsync();
            controllerStopped = true;
            var before = Ticks((await runner.WaitUntilAsync(jobId, _ => true, "a pull")).Text).Max();
            await runner.WaitUntilAsync(jobId, r => Ticks(r.Text).Max() >= before + 20, "20 more ticks with slurmctld away");

            // It ends while the controller is away: its step's end and the allocation's release wait for it.
            await File.WriteAllTextAsync(go, "");
            await runner.WaitUntilAsync(jobId, r => r.Text.Contains("finished", StringComparison.Ordinal), "the job's last line");
            await SlurmCluster.StartControllerAsync();
            controllerStopped = false;

            var result = await runner.PullToEndAsync(jobId, TimeSpan.FromSeconds(90));
            Assert.Equal(JobState.Done, result.Final.State);
            var ticks = Ticks(result.Text);
            Assert.Equal(Enumerable.Range(1, ticks.Count), ticks); // every line once, in order
            await SlurmCluster.AssertNothingLeftAsync(jobId);
        }
        finally
        {
            if (controllerStopped)
            {
                await SlurmCluster.StartControllerAsync();
            }

            Directory.Delete(flag, recursive: true);
        }
    }

    [SkippableFact]
    public async Task SlurmctldDownAtSubmit_FailsTheJob_WithOneClearMessage()
    {
        using var cluster = SlurmCluster.Require();
        await using var runner = await RunnerHost.StartAsync(slurm: []);
        await SlurmCluster.StopControllerAsync();
        JobResult result;
        try
        {
            result = await runner.RunAsync(new JobSpec(["echo never"]), TimeSpan.FromSeconds(300));
        }
        finally
        {
            await SlurmCluster.StartControllerAsync();
        }

        Assert.Equal(JobState.Failed, result.Final.State);
        Assert.Equal(TerminationReason.ExecutorError, result.Final.TerminationReason);
        Assert.StartsWith("Slurm did not run the job: ", result.Final.TerminationMessage, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', result.Final.TerminationMessage!);
        Assert.Equal("", result.Text);
        await SlurmCluster.AssertNothingLeftAsync(result.JobId);
    }

    [SkippableFact]
    public async Task RunnerSigkilledAndRestarted_EndsItsSlurmJob_LeavingNoOrphanInTheQueue()
    {
        using var cluster = SlurmCluster.Require();
        var dir = Directory.CreateTempSubdirectory("logquota-slurm-runner-").FullName;
        var jobId = Guid.NewGuid();
        try
        {
            using (var first = await RunnerProcess.StartAsync(dir))
            {
                await first.Api.SubmitAsync(new SubmitBody(jobId, new RunRef(Guid.NewGuid(), "orphan"), new JobSpec(["echo started; sleep 300"])), CancellationToken.None);
                var deadline = DateTime.UtcNow.AddSeconds(90);
                while (SlurmCluster.Find(jobId) is not { } line || !line.Contains("|RUNNING|", StringComparison.Ordinal))
                {
                    Assert.True(DateTime.UtcNow < deadline, "waited 90 s for the job's Slurm allocation to run");
                    await Task.Delay(200);
                }

                first.Kill();
            }

            Assert.Contains("|RUNNING|", SlurmCluster.Find(jobId), StringComparison.Ordinal); // left behind, until a runner ends it
            using var second = await RunnerProcess.StartAsync(dir);
            await SlurmCluster.AssertNothingLeftAsync(jobId);
            var gone = await Assert.ThrowsAnyAsync<ApiException>(() => second.Api.PullAsync(jobId, 0, CancellationToken.None));
            Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
            Directory.Delete(RunnerHost.WorkDirOf(dir), recursive: true);
        }
    }

    private static List<int> Ticks(string text) =>
        [.. text.Split('\n').Where(l => l.StartsWith("tick ", StringComparison.Ordinal)).Select(l => int.Parse(l[5..], System.Globalization.CultureInfo.InvariantCulture)).DefaultIfEmpty(0)];

    /// <summary>A runner in a process of its own, so that it can be SIGKILLed as a crash would end it.</summary>
    private sealed class RunnerProcess : IDisposable
    {
        private readonly Process _process;
        private readonly HttpClient _http;

        private RunnerProcess(Process process, HttpClient http)
        {
            _process = process;
            _http = http;
            Api = RestService.For<IRunnerApi>(http, new RefitSettings(new SystemTextJsonContentSerializer(LogQuotaJson.Options)));
        }

        public IRunnerApi Api { get; }

        public static async Task<RunnerProcess> StartAsync(string dir)
        {
            var port = FreePort();
            var info = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
            info.ArgumentList.Add("exec");
            info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "LogQuota.Runner.dll"));
            info.Environment["DSTACK_RUNNER_HOST"] = "127.0.0.1";
            info.Environment["DSTACK_RUNNER_PORT"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture);
            info.Environment["DSTACK_RUNNER_DIR"] = dir;
            info.Environment["DSTACK_RUNNER_WORK_DIR"] = RunnerHost.WorkDirOf(dir);
            info.Environment["DSTACK_RUNNER_TOKEN"] = RunnerHost.Token;
            info.Environment["DSTACK_RUNNER_EXECUTOR"] = "slurm";
            var process = Process.Start(info)!;
            process.OutputDataReceived += (_, _) => { };
            process.ErrorDataReceived += (_, _) => { };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(30) };
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", RunnerHost.Token);
            var deadline = DateTime.UtcNow.AddSeconds(90);
            while (true)
            {
                try
                {
                    if ((await http.GetAsync(new Uri("/api/healthcheck", UriKind.Relative))).IsSuccessStatusCode)
                    {
                        return new RunnerProcess(process, http);
                    }
                }
                catch (HttpRequestException)
                {
                }

                if (process.HasExited || DateTime.UtcNow > deadline)
                {
                    process.Kill(entireProcessTree: true);
                    Assert.Fail($"the runner process did not answer its health check within 90 s (exited: {process.HasExited})");
                }

                await Task.Delay(100);
            }
        }

        /// <summary>SIGKILL to the runner alone, as a crash or the OOM killer ends it: its jobs are left behind.</summary>
        public void Kill()
        {
            _process.Kill(entireProcessTree: false);
            _process.WaitForExit();
        }

        private static int FreePort()
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }

        public void Dispose()
        {
            _http.Dispose();
            if (!_process.HasExited)
            {
                SlurmCluster.Run("kill", "-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
                _process.WaitForExit(TimeSpan.FromSeconds(90));
            }

            _process.Dispose();
        }
    }
}
