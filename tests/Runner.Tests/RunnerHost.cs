using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;
using System.Net.Http.Headers;
using System.Text;
using LogQuota.Runner;
using LogQuota.Runner.Configuration;
using LogQuota.Shared.Api;
using LogQuota.Shared.Contracts;
using LogQuota.Shared.Hosting;
using LogQuota.Shared.Json;
using Refit;

namespace LogQuota.Runner.Tests;

/// <summary>A real runner on a free loopback port with its own temp directory and token; removed on dispose.</summary>
public sealed class RunnerHost : IAsyncDisposable
{
    public const string Token = "test-token-0123456789abcdef";

    private readonly WebApplication _app;

    private readonly bool _keepDir;

    private RunnerHost(WebApplication app, string dir, Uri baseUri, bool keepDir)
    {
        _app = app;
        _keepDir = keepDir;
        Dir = dir;
        BaseUri = baseUri;
        // Waits as long for the answer to "Expect: 100-continue" (LargeBodies) as for any answer: .NET's default of one
        // second, on a busy machine, sends the body the runner was about to refuse, and the test sees a broken pipe.
        var handler = new SocketsHttpHandler { Expect100ContinueTimeout = TimeSpan.FromSeconds(30) };
        Http = new HttpClient(handler) { BaseAddress = baseUri, Timeout = TimeSpan.FromSeconds(30) };
        Http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        Api = RestService.For<IRunnerApi>(Http, new RefitSettings(new SystemTextJsonContentSerializer(LogQuotaJson.Options)));
    }

    public string Dir { get; }

    public Uri BaseUri { get; }

    public HttpClient Http { get; }

    public IRunnerApi Api { get; }

    /// <summary>The runner's services (its routing table, for tests that enumerate every endpoint).</summary>
    public IServiceProvider Services => _app.Services;

    /// <summary>The jobs' directories (DSTACK_RUNNER_WORK_DIR): <see cref="Dir"/> with <c>-work</c>, in the temp directory
    /// that jobs under other uids can pass through, never the shared default; removed on dispose.</summary>
    public string WorkDir => WorkDirOf(Dir);

    /// <summary>The work directory the runner on <paramref name="dir"/> gets.</summary>
    public static string WorkDirOf(string dir) => dir.TrimEnd('/') + "-work";

    /// <summary>Starts a runner on <paramref name="dir"/> (removed on dispose), or on a new temp directory.</summary>
    /// <param name="killModeLimit">The strongest isolation the runner may choose (to test each mode on one machine).</param>
    /// <param name="perJobUids">False keeps a root runner's jobs under its own uid.</param>
    /// <param name="jobPidsMax">DSTACK_RUNNER_JOB_PIDS_MAX.</param>
    /// <param name="codeMaxUnpacked">DSTACK_RUNNER_CODE_MAX_UNPACKED.</param>
    /// <param name="keepDir">Leave the directory and its work directory on dispose, for a next runner process on it (the caller removes both).</param>
    /// <param name="jobMemoryMax">DSTACK_RUNNER_JOB_MEMORY_MAX.</param>
    /// <param name="jobUser">DSTACK_RUNNER_JOB_USER.</param>
    /// <param name="jobDiskMax">DSTACK_RUNNER_JOB_DISK_MAX.</param>
    /// <param name="host">DSTACK_RUNNER_HOST.</param>
    /// <param name="slurm">DSTACK_RUNNER_EXECUTOR=slurm with these DSTACK_RUNNER_SLURM_ARGS; null: the local executor.</param>
    /// <param name="slurmPartitions">DSTACK_RUNNER_SLURM_PARTITIONS.</param>
    public static async Task<RunnerHost> StartAsync(
        string? dir = null, IsolationKill? killModeLimit = null, bool perJobUids = true, int jobPidsMax = 4096,
        long codeMaxUnpacked = RunnerSettings.DefaultCodeMaxUnpacked, bool keepDir = false, long? jobMemoryMax = null, string? jobUser = null,
        long? jobDiskMax = null, string host = "127.0.0.1", IReadOnlyList<string>? slurm = null, IReadOnlyList<string>? slurmPartitions = null)
    {
        dir ??= Directory.CreateTempSubdirectory("logquota-runner-test-").FullName;
        // No drain: nothing pulls a test runner's jobs after the test, so a drain would only hold up disposal.
        var settings = new RunnerSettings
        {
            Host = host, Port = 0, Dir = dir, Token = Token, DrainPeriod = TimeSpan.Zero,
            KillModeLimit = killModeLimit, PerJobUidsAllowed = perJobUids, JobPidsMax = jobPidsMax, CodeMaxUnpacked = codeMaxUnpacked,
            JobMemoryMax = jobMemoryMax, WorkDir = WorkDirOf(dir), JobUser = jobUser, JobDiskMax = jobDiskMax,
            Executor = slurm is null ? RunnerExecutor.Local : RunnerExecutor.Slurm, SlurmArgs = slurm ?? [], SlurmPartitions = slurmPartitions ?? [],
        };
        var app = await BuildAsync(settings);
        await app.StartAsync();
        return new RunnerHost(app, dir, new Uri(app.Urls.First()), keepDir);
    }

    /// <summary>
    /// Builds the runner, waiting while the directory's lock is held by this test process itself: a runner started again
    /// on the directory of one just disposed finds the lock held for as long as a child that another test's thread forked
    /// meanwhile has not reached its exec (it holds a copy of the lock's descriptor until then, which on a busy machine
    /// takes a while). Another process's lock fails at once, as it would for a real runner.
    /// </summary>
    private static async Task<WebApplication> BuildAsync(RunnerSettings settings)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            try
            {
                return RunnerApplication.Build(settings, b => b.Logging.ClearProviders());
            }
            catch (DirectoryInUseException e) when (e.HolderPid == Environment.ProcessId && DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }
        }
    }

    /// <summary>Submits a job and pulls until the runner says nothing more will come; returns every state and the stored bytes.</summary>
    public async Task<JobResult> RunAsync(JobSpec spec, TimeSpan? timeout = null)
    {
        var jobId = Guid.NewGuid();
        await Api.SubmitAsync(new SubmitBody(jobId, new RunRef(Guid.NewGuid(), "test-run"), spec), CancellationToken.None);
        return await PullToEndAsync(jobId, timeout);
    }

    public async Task<JobResult> PullToEndAsync(Guid jobId, TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(60));
        var states = new List<JobStateEvent>();
        var logs = new List<LogEvent>();
        var events = new List<JobEvent>();
        var sections = new List<LogSectionMark>();
        long cursor = 0;
        var pages = 0;
        while (true)
        {
            var pull = await Api.PullAsync(jobId, cursor, cts.Token);
            pages++;
            states.AddRange(pull.JobStates);
            logs.AddRange(pull.JobLogs);
            events.AddRange(pull.JobEvents ?? []);
            sections.AddRange(pull.LogSections ?? []);
            cursor = pull.LastUpdated;
            if (!pull.HasMore)
            {
                return new JobResult(jobId, states, logs, pages, pull.LogBytesHour) { Events = events, Quota = pull.LogQuota, Sections = sections };
            }

            if (pull.JobLogs.Count == 0 && pull.JobStates.Count == 0)
            {
                await Task.Delay(20, cts.Token);
            }
        }
    }

    /// <summary>
    /// Pulls everything the job has stored so far, again and again, until <paramref name="seen"/> holds for it; fails
    /// after 90 s saying it waited for <paramref name="what"/>. For conditions of a job that has not ended.
    /// </summary>
    public async Task<JobResult> WaitUntilAsync(Guid jobId, Func<JobResult, bool> seen, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (true)
        {
            var (states, logs, events) = (new List<JobStateEvent>(), new List<LogEvent>(), new List<JobEvent>());
            long cursor = 0;
            while (true)
            {
                var pull = await Api.PullAsync(jobId, cursor, CancellationToken.None);
                states.AddRange(pull.JobStates);
                logs.AddRange(pull.JobLogs);
                events.AddRange(pull.JobEvents ?? []);
                if (pull.LastUpdated == cursor)
                {
                    break;
                }

                cursor = pull.LastUpdated;
            }

            var result = new JobResult(jobId, states, logs, 0, 0) { Events = events };
            if (seen(result))
            {
                return result;
            }

            Assert.True(DateTime.UtcNow < deadline, $"job {jobId}: waited 90 s for {what}; its states: {string.Join(", ", states.Select(s => s.State))}, events: {string.Join(", ", events.Select(e => e.Type))}");
            await Task.Delay(50);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        if (_keepDir)
        {
            return;
        }

        foreach (var dir in new[] { Dir, WorkDir })
        {
            try
            {
                Directory.Delete(dir, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}

public sealed record JobResult(Guid JobId, List<JobStateEvent> States, List<LogEvent> Logs, int Pages, long LogBytesHour)
{
    public JobStateEvent Final => States[^1];

    /// <summary>The quota events pulled (warnings, crossings, drop reports).</summary>
    public List<JobEvent> Events { get; init; } = [];

    /// <summary>The section marks pulled.</summary>
    public List<LogSectionMark> Sections { get; init; } = [];

    /// <summary>The quota block of the last pull.</summary>
    public LogQuotaStatus? Quota { get; init; }

    /// <summary>The job's own output: the <c>stdout</c> events.</summary>
    public byte[] Bytes => Logs.Where(l => l.LogSource == LogSource.Stdout).SelectMany(l => l.Message).ToArray();

    public string Text => Encoding.UTF8.GetString(Bytes);

    /// <summary>What the runner wrote itself: the <c>runner</c> events (markers, a dropped tail).</summary>
    public string RunnerText => Encoding.UTF8.GetString(Logs.Where(l => l.LogSource == LogSource.Runner).SelectMany(l => l.Message).ToArray());

    /// <summary>Every stored byte in order, as the log reads.</summary>
    public string AllText => Encoding.UTF8.GetString(Logs.SelectMany(l => l.Message).ToArray());
}
