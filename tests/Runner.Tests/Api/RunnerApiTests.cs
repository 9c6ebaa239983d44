using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using LogQuota.Runner.Configuration;
using LogQuota.Shared.Contracts;
using LogQuota.Shared.Json;

namespace LogQuota.Runner.Tests;

/// <summary>The runner's HTTP surface: auth, idempotent submit, validation answered with problem details.</summary>
public sealed class RunnerApiTests : IAsyncLifetime
{
    private RunnerHost _runner = null!;

    public async Task InitializeAsync() => _runner = await RunnerHost.StartAsync();

    public async Task DisposeAsync() => await _runner.DisposeAsync();

    private static SubmitBody Body(Guid id, string command = "true") =>
        new(id, new RunRef(Guid.NewGuid(), "api-test"), new JobSpec([command]));

    [Fact]
    public async Task Healthcheck_NeedsNoToken()
    {
        using var anonymous = new HttpClient { BaseAddress = _runner.BaseUri };
        var health = await anonymous.GetFromJsonAsync<HealthcheckResponse>("/api/healthcheck", LogQuotaJson.Options);
        Assert.Equal("logquota-runner", health!.Service);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("Bearer wrong-token-0123456789")]
    [InlineData("Basic dGVzdC10b2tlbg==")]
    [InlineData("Bearer ")]
    public async Task EveryJobEndpoint_Answers401_WithoutTheRightToken(string? authorization)
    {
        using var client = new HttpClient { BaseAddress = _runner.BaseUri };
        if (authorization is not null)
        {
            client.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", authorization);
        }

        var id = Guid.NewGuid();
        var requests = new[]
        {
            new HttpRequestMessage(HttpMethod.Post, "/api/jobs") { Content = JsonContent.Create(Body(id), options: LogQuotaJson.Options) },
            new HttpRequestMessage(HttpMethod.Get, $"/api/jobs/{id}/pull?timestamp=0"),
            new HttpRequestMessage(HttpMethod.Post, $"/api/jobs/{id}/stop"),
            new HttpRequestMessage(HttpMethod.Delete, $"/api/jobs/{id}"),
        };
        foreach (var request in requests)
        {
            using var response = await client.SendAsync(request);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            request.Dispose();
        }

        Assert.Empty(Directory.GetDirectories(Path.Combine(_runner.Dir, "jobs")));
    }

    [Fact]
    public async Task Submit_IsIdempotent_AndConflictsOnADifferentBody()
    {
        var id = Guid.NewGuid();
        var body = Body(id, "sleep 5");
        using var first = await _runner.Http.PostAsJsonAsync("/api/jobs", body, LogQuotaJson.Options);
        using var again = await _runner.Http.PostAsJsonAsync("/api/jobs", body with { Run = body.Run }, LogQuotaJson.Options);
        using var other = await _runner.Http.PostAsJsonAsync("/api/jobs", Body(id, "echo other"), LogQuotaJson.Options);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, other.StatusCode);
        Assert.Single(Directory.GetDirectories(Path.Combine(_runner.Dir, "jobs")));
        await _runner.Api.StopAsync(id, new StopBody(), CancellationToken.None);
        await _runner.PullToEndAsync(id);
    }

    public static TheoryData<string, string> BadSubmitBodies => new()
    {
        { "", "it is not valid JSON" },
        { "[]", "it must be a JSON object" },
        { "null", "not null" },
        { """{"run": {"id": "5f2c8a90-1b2d-4e3f-8a7b-6c5d4e3f2a1b", "run_name": "a"}, "job_spec": {"commands": ["true"]}}""", "job_id" },
        { """{"job_id": "nope", "run": {"id": "5f2c8a90-1b2d-4e3f-8a7b-6c5d4e3f2a1b", "run_name": "a"}, "job_spec": {"commands": ["true"]}}""", "`job_id` must be a UUID" },
        { """{"job_id": "00000000-0000-0000-0000-000000000000", "run": {"id": "5f2c8a90-1b2d-4e3f-8a7b-6c5d4e3f2a1b", "run_name": "a"}, "job_spec": {"commands": ["true"]}}""", "job_id" },
        { """{"job_id": "0b4a3f4e-5a36-4c1e-9d0e-3b1f2a6c7d80", "run": {"id": "5f2c8a90-1b2d-4e3f-8a7b-6c5d4e3f2a1b", "run_name": "a"}, "job_spec": {"commands": []}}""", "at least one command" },
        { """{"job_id": "0b4a3f4e-5a36-4c1e-9d0e-3b1f2a6c7d80", "run": {"id": "5f2c8a90-1b2d-4e3f-8a7b-6c5d4e3f2a1b", "run_name": "a"}, "job_spec": {"commands": [" "]}}""", "non-empty" },
        { """{"job_id": "0b4a3f4e-5a36-4c1e-9d0e-3b1f2a6c7d80", "run": {"id": "5f2c8a90-1b2d-4e3f-8a7b-6c5d4e3f2a1b", "run_name": "a"}, "job_spec": {"commands": ["true"], "log_quota_hour": 0}}""", "log_quota_hour" },
        { """{"job_id": "0b4a3f4e-5a36-4c1e-9d0e-3b1f2a6c7d80", "run": {"id": "5f2c8a90-1b2d-4e3f-8a7b-6c5d4e3f2a1b", "run_name": "a"}, "job_spec": {"commands": ["true"], "log_quota_hour": "big"}}""", "`job_spec.log_quota_hour` must be a whole number" },
        { """{"job_id": "0b4a3f4e-5a36-4c1e-9d0e-3b1f2a6c7d80", "run": {"id": "5f2c8a90-1b2d-4e3f-8a7b-6c5d4e3f2a1b", "run_name": "a"}, "job_spec": {"commands": ["true"], "max_duration": 0}}""", "max_duration" },
        { """{"job_id": "0b4a3f4e-5a36-4c1e-9d0e-3b1f2a6c7d80", "run": {"id": "5f2c8a90-1b2d-4e3f-8a7b-6c5d4e3f2a1b", "run_name": "a"}, "job_spec": {"commands": ["true"], "working_dir": "src/../../x"}}""", "must stay inside the code directory" },
        { """{"job_id": "0b4a3f4e-5a36-4c1e-9d0e-3b1f2a6c7d80", "run": {"id": "5f2c8a90-1b2d-4e3f-8a7b-6c5d4e3f2a1b", "run_name": "a"}, "job_spec": {"commands": ["true"], "working_dir": "relative/../dir"}}""", "working_dir" },
        { """{"job_id": "0b4a3f4e-5a36-4c1e-9d0e-3b1f2a6c7d80", "run": {"id": "5f2c8a90-1b2d-4e3f-8a7b-6c5d4e3f2a1b", "run_name": "a"}, "job_spec": {"commands": ["true"], "env": {"1BAD": "x"}}}""", "env name" },
        { """{"job_id": "0b4a3f4e-5a36-4c1e-9d0e-3b1f2a6c7d80", "run": {"id": "5f2c8a90-1b2d-4e3f-8a7b-6c5d4e3f2a1b", "run_name": "a"}, "job_spec": {"commands": ["true"], "columns": 19}}""", "job_spec.columns: columns must be a terminal width from 20 to 1000 characters; got 19." },
        { """{"job_id": "0b4a3f4e-5a36-4c1e-9d0e-3b1f2a6c7d80", "run": {"id": "5f2c8a90-1b2d-4e3f-8a7b-6c5d4e3f2a1b", "run_name": "a"}, "job_spec": {"commands": ["true"], "columns": 1001}}""", "got 1001" },
        { """{"job_id": "0b4a3f4e-5a36-4c1e-9d0e-3b1f2a6c7d80", "run": {"id": "5f2c8a90-1b2d-4e3f-8a7b-6c5d4e3f2a1b", "run_name": "a"}, "job_spec": {"commands": ["true"], "tty": "yes"}}""", "`job_spec.tty` must be true or false" },
        { """{"job_id": "0b4a3f4e-5a36-4c1e-9d0e-3b1f2a6c7d80", "run": {"id": "5f2c8a90-1b2d-4e3f-8a7b-6c5d4e3f2a1b", "run_name": "a"}, "job_spec": {"commands": ["true"], "unknown": 1}}""", "unknown" },
        { """{"job_id": "0b4a3f4e-5a36-4c1e-9d0e-3b1f2a6c7d80", "run": {"id": "5f2c8a90-1b2d-4e3f-8a7b-6c5d4e3f2a1b", "run_name": ""}, "job_spec": {"commands": ["true"]}}""", "run_name" },
    };

    [Theory]
    [MemberData(nameof(BadSubmitBodies))]
    public async Task Submit_RejectsBadBodies_WithProblemDetails_AndStartsNothing(string json, string detailContains)
    {
        using var content = new StringContent(json, Encoding.UTF8, "application/json");
        using var response = await _runner.Http.PostAsync("/api/jobs", content);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Contains(detailContains, problem.GetProperty("detail").GetString(), StringComparison.OrdinalIgnoreCase);
        Assert.Empty(Directory.GetDirectories(Path.Combine(_runner.Dir, "jobs")));
    }

    [Fact]
    public async Task Submit_RejectsNonJsonContent()
    {
        using var content = new StringContent("commands=true", Encoding.UTF8, "text/plain");
        using var response = await _runner.Http.PostAsync("/api/jobs", content);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
    }

    [Theory]
    [InlineData("/api/jobs/not-a-guid/pull?timestamp=0", HttpStatusCode.NotFound)]
    [InlineData("/api/jobs/0b4a3f4e-5a36-4c1e-9d0e-3b1f2a6c7d80/pull?timestamp=0", HttpStatusCode.NotFound)]
    public async Task Pull_OfAnUnknownJob_Is404(string path, HttpStatusCode expected)
    {
        using var response = await _runner.Http.GetAsync(path);
        Assert.Equal(expected, response.StatusCode);
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("1.5")]
    [InlineData("99999999999999999999")]
    public async Task Pull_RejectsABadTimestamp(string timestamp)
    {
        var id = Guid.NewGuid();
        await _runner.Api.SubmitAsync(Body(id), CancellationToken.None);
        using var response = await _runner.Http.GetAsync($"/api/jobs/{id}/pull?timestamp={timestamp}");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        await _runner.PullToEndAsync(id);
    }

    [Fact]
    public async Task Delete_ForgetsAFinishedJob_AndRemovesItsSpool_ButRefusesARunningOne()
    {
        var running = Guid.NewGuid();
        await _runner.Api.SubmitAsync(Body(running, "sleep 30"), CancellationToken.None);
        using (var refused = await _runner.Http.DeleteAsync($"/api/jobs/{running}"))
        {
            Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        }

        await _runner.Api.StopAsync(running, new StopBody(), CancellationToken.None);
        await _runner.PullToEndAsync(running);
        await _runner.Api.DeleteAsync(running, CancellationToken.None);

        Assert.False(Directory.Exists(Path.Combine(_runner.Dir, "jobs", running.ToString("N"))));
        using var gone = await _runner.Http.GetAsync($"/api/jobs/{running}/pull?timestamp=0");
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
    }

    [Fact]
    public async Task Healthcheck_ReportsTheRunnersIdentityAndCapacity_AndTheIdentityOutlivesARestart()
    {
        var dir = Directory.CreateTempSubdirectory("logquota-runner-identity-").FullName;
        try
        {
            string first;
            await using (var runner = await RunnerHost.StartAsync(dir, keepDir: true))
            {
                var health = await runner.Api.HealthcheckAsync(CancellationToken.None);
                first = health.RunnerId!;
                Assert.Matches("^[0-9a-f]{32}$", first);
                Assert.True(health.MaxJobs >= 1, $"max_jobs {health.MaxJobs}");
            }

            Assert.Equal(first + "\n", await File.ReadAllTextAsync(Path.Combine(dir, RunnerIdentity.FileName)));
            Assert.True(OperatingSystem.IsWindows() || File.GetUnixFileMode(Path.Combine(dir, RunnerIdentity.FileName)) == (UnixFileMode.UserRead | UnixFileMode.UserWrite), "runner-id is not 0600");
            await using (var again = await RunnerHost.StartAsync(dir, keepDir: true))
            {
                Assert.Equal(first, (await again.Api.HealthcheckAsync(CancellationToken.None)).RunnerId);
            }
        }
        finally
        {
            foreach (var path in new[] { dir, RunnerHost.WorkDirOf(dir) }.Where(Directory.Exists))
            {
                Directory.Delete(path, recursive: true);
            }
        }
    }

    [Fact]
    public async Task Stop_RejectsAReasonThatIsNotAStop()
    {
        var id = Guid.NewGuid();
        await _runner.Api.SubmitAsync(Body(id, "sleep 30"), CancellationToken.None);
        using var content = new StringContent("""{"termination_reason": "log_quota_exceeded"}""", Encoding.UTF8, "application/json");
        using var response = await _runner.Http.PostAsync($"/api/jobs/{id}/stop", content);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        await _runner.Api.StopAsync(id, new StopBody(), CancellationToken.None);
        await _runner.PullToEndAsync(id);
    }
}

public sealed class RunnerSettingsTests
{
    private static RunnerSettings Read(params (string Name, string Value)[] vars) =>
        RunnerSettings.FromEnvironment(vars.ToDictionary(v => v.Name, v => (object)v.Value) as System.Collections.IDictionary
            ?? throw new InvalidOperationException());

    [Fact]
    public void MaxJobs_IsTheSetting_OrDerivedFromCoresAndMemory()
    {
        Assert.Equal(7, Read(("DSTACK_RUNNER_MAX_JOBS", "7")).EffectiveMaxJobs);
        var derived = Read().EffectiveMaxJobs;
        Assert.InRange(derived, 1, 256 * Environment.ProcessorCount);
        Assert.True(derived <= Math.Max(1, GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (8L << 20)), $"{derived} jobs is more than one per 8 MiB");
    }

    [Fact]
    public void Defaults_AreLoopbackAndPort10999()
    {
        var settings = Read();
        Assert.Equal("127.0.0.1", settings.Host);
        Assert.Equal(10999, settings.Port);
        Assert.Null(settings.Token);
    }

    [Theory]
    [InlineData("DSTACK_RUNNER_PORT", "http", "DSTACK_RUNNER_PORT")]
    [InlineData("DSTACK_RUNNER_PORT", "70000", "DSTACK_RUNNER_PORT")]
    [InlineData("DSTACK_RUNNER_PORT", "-1", "DSTACK_RUNNER_PORT")]
    [InlineData("DSTACK_RUNNER_HOST", "not a host", "DSTACK_RUNNER_HOST")]
    [InlineData("DSTACK_RUNNER_DIR", "relative/dir", "DSTACK_RUNNER_DIR")]
    [InlineData("DSTACK_RUNNER_TOKEN", "short", "DSTACK_RUNNER_TOKEN")]
    [InlineData("DSTACK_RUNNER_JOB_UIDS", "200000", "DSTACK_RUNNER_JOB_UIDS")]
    [InlineData("DSTACK_RUNNER_JOB_UIDS", "0-100", "DSTACK_RUNNER_JOB_UIDS")]
    [InlineData("DSTACK_RUNNER_JOB_UIDS", "300000-200000", "DSTACK_RUNNER_JOB_UIDS")]
    [InlineData("DSTACK_RUNNER_JOB_UIDS", "a-b", "DSTACK_RUNNER_JOB_UIDS")]
    [InlineData("DSTACK_RUNNER_JOB_UIDS", "1-4294967295", "DSTACK_RUNNER_JOB_UIDS")]
    [InlineData("DSTACK_RUNNER_MAX_JOBS", "0", "DSTACK_RUNNER_MAX_JOBS")]
    [InlineData("DSTACK_RUNNER_MAX_JOBS", "many", "DSTACK_RUNNER_MAX_JOBS")]
    [InlineData("DSTACK_RUNNER_MAX_JOBS", "2000000", "DSTACK_RUNNER_MAX_JOBS")]
    [InlineData("DSTACK_RUNNER_JOB_PIDS_MAX", "0", "DSTACK_RUNNER_JOB_PIDS_MAX")]
    [InlineData("DSTACK_RUNNER_JOB_PIDS_MAX", "-5", "DSTACK_RUNNER_JOB_PIDS_MAX")]
    [InlineData("DSTACK_RUNNER_JOB_PIDS_MAX", "max", "DSTACK_RUNNER_JOB_PIDS_MAX")]
    [InlineData("DSTACK_RUNNER_JOB_PIDS_MAX", "99999999999", "DSTACK_RUNNER_JOB_PIDS_MAX")]
    [InlineData("DSTACK_RUNNER_CODE_MAX_UNPACKED", "0", "DSTACK_RUNNER_CODE_MAX_UNPACKED")]
    [InlineData("DSTACK_RUNNER_CODE_MAX_UNPACKED", "lots", "DSTACK_RUNNER_CODE_MAX_UNPACKED")]
    [InlineData("DSTACK_RUNNER_CODE_MAX_UNPACKED", "-1GiB", "DSTACK_RUNNER_CODE_MAX_UNPACKED")]
    [InlineData("DSTACK_RUNNER_CODE_MAX_UNPACKED", "1 parsec", "DSTACK_RUNNER_CODE_MAX_UNPACKED")]
    [InlineData("DSTACK_RUNNER_CODE_MAX_UNPACKED", "99999999TiB", "DSTACK_RUNNER_CODE_MAX_UNPACKED")]
    [InlineData("DSTACK_RUNNER_JOB_MEMORY_MAX", "lots", "DSTACK_RUNNER_JOB_MEMORY_MAX")]
    [InlineData("DSTACK_RUNNER_JOB_MEMORY_MAX", "-1G", "DSTACK_RUNNER_JOB_MEMORY_MAX")]
    [InlineData("DSTACK_RUNNER_JOB_MEMORY_MAX", "1MiB", "DSTACK_RUNNER_JOB_MEMORY_MAX")]
    [InlineData("DSTACK_RUNNER_JOB_DISK_MAX", "lots", "DSTACK_RUNNER_JOB_DISK_MAX")]
    [InlineData("DSTACK_RUNNER_JOB_DISK_MAX", "-10GiB", "DSTACK_RUNNER_JOB_DISK_MAX")]
    [InlineData("DSTACK_RUNNER_JOB_DISK_MAX", "0", "DSTACK_RUNNER_JOB_DISK_MAX")]
    [InlineData("DSTACK_RUNNER_JOB_DISK_MAX", "512KiB", "DSTACK_RUNNER_JOB_DISK_MAX")]
    [InlineData("DSTACK_RUNNER_JOB_DISK_MAX", "99999999TiB", "DSTACK_RUNNER_JOB_DISK_MAX")]
    [InlineData("DSTACK_RUNNER_WORK_DIR", "work", "DSTACK_RUNNER_WORK_DIR")]
    [InlineData("DSTACK_RUNNER_JOB_USER", "-rf", "DSTACK_RUNNER_JOB_USER")]
    [InlineData("DSTACK_RUNNER_JOB_USER", "a b", "DSTACK_RUNNER_JOB_USER")]
    [InlineData("DSTACK_RUNNER_JOB_USER", "a-name-far-longer-than-thirty-two-chars", "DSTACK_RUNNER_JOB_USER")]
    [InlineData("DSTACK_RUNNER_JOB_ENV_PASS", "PATH,1ST", "DSTACK_RUNNER_JOB_ENV_PASS")]
    [InlineData("DSTACK_RUNNER_JOB_ENV_PASS", "A=B", "DSTACK_RUNNER_JOB_ENV_PASS")]
    [InlineData("DSTACK_RUNNER_JOB_ENV_PASS", "HF_TOKEN,DSTACK_RUNNER_TOKEN", "DSTACK_RUNNER_JOB_ENV_PASS")]
    public void BadValue_IsRejected_NamingTheVariable(string name, string value, string named)
    {
        var error = Assert.Throws<SettingsException>(() => Read((name, value)));
        Assert.StartsWith(named, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void JobUidsAndPidsMax_HaveTheSpecDefaults_AndTakeGoodValues()
    {
        var defaults = Read();
        Assert.Equal(new UidRange(200000, 299999), defaults.JobUids);
        Assert.Equal(4096, defaults.JobPidsMax);
        var set = Read(("DSTACK_RUNNER_JOB_UIDS", "70000-70009"), ("DSTACK_RUNNER_JOB_PIDS_MAX", "64"));
        Assert.Equal(new UidRange(70000, 70009), set.JobUids);
        Assert.Equal(10u, set.JobUids.Count);
        Assert.Equal(64, set.JobPidsMax);
    }

    [Theory]
    [InlineData(null, 1L << 30)]
    [InlineData("512MiB", 512L << 20)]
    [InlineData("2GiB", 2L << 30)]
    [InlineData("1048576", 1L << 20)]
    [InlineData("10MB", 10_000_000L)]
    public void CodeMaxUnpacked_IsOneGiBByDefault_AndTakesSizesWithUnits(string? value, long bytes) =>
        Assert.Equal(bytes, (value is null ? Read() : Read(("DSTACK_RUNNER_CODE_MAX_UNPACKED", value))).CodeMaxUnpacked);

    [Theory]
    [InlineData("8GiB", 8L << 30)]
    [InlineData("512MiB", 512L << 20)]
    [InlineData("2G", 2L << 30)]
    [InlineData("1.5GB", 1_500_000_000L)]
    [InlineData("104857600", 104857600L)]
    public void JobMemoryMax_TakesBytesWithUnits_AndIsUnsetByDefault(string value, long bytes)
    {
        Assert.Null(Read().JobMemoryMax);
        Assert.Equal(bytes, Read(("DSTACK_RUNNER_JOB_MEMORY_MAX", value)).JobMemoryMax);
    }

    [Theory]
    [InlineData("10GiB", 10L << 30)]
    [InlineData("512MiB", 512L << 20)]
    [InlineData("1M", 1L << 20)]
    [InlineData("2.5GB", 2_500_000_000L)]
    [InlineData("1048576", 1L << 20)]
    public void JobDiskMax_TakesBytesWithUnits_AndIsUnsetByDefault(string value, long bytes)
    {
        Assert.Null(Read().JobDiskMax);
        Assert.Equal(bytes, Read(("DSTACK_RUNNER_JOB_DISK_MAX", value)).JobDiskMax);
    }

    [Fact]
    public void WorkDirJobUserAndEnvPass_AreUnsetByDefault_AndTakeGoodValues()
    {
        var defaults = Read();
        Assert.Null(defaults.WorkDir);
        Assert.Null(defaults.JobUser);
        Assert.Empty(defaults.JobEnvPass);
        var set = Read(("DSTACK_RUNNER_WORK_DIR", "/data/jobs/"), ("DSTACK_RUNNER_JOB_USER", "ml.team_1"), ("DSTACK_RUNNER_JOB_ENV_PASS", " HF_TOKEN ,,http_proxy,HF_TOKEN"));
        Assert.Equal("/data/jobs", set.WorkDir);
        Assert.Equal("ml.team_1", set.JobUser);
        Assert.Equal(["HF_TOKEN", "http_proxy"], set.JobEnvPass);
    }

    [Fact]
    public void ToString_NamesNoToken()
    {
        var settings = Read(("DSTACK_RUNNER_TOKEN", "secret-token-0123456789"), ("DSTACK_RUNNER_METRICS_TOKEN", "metrics-token-0123456789"));
        Assert.DoesNotContain("token-0123456789", settings.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void NonLoopbackHost_WithoutToken_RefusesToStart()
    {
        var error = Assert.Throws<SettingsException>(() => Read(("DSTACK_RUNNER_HOST", "0.0.0.0")));
        Assert.Contains("DSTACK_RUNNER_TOKEN is required", error.Message, StringComparison.Ordinal);
        Assert.Equal("0.0.0.0", Read(("DSTACK_RUNNER_HOST", "0.0.0.0"), ("DSTACK_RUNNER_TOKEN", "0123456789abcdef0123")).Host);
    }
}
