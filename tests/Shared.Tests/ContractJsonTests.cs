using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using LogQuota.Shared.Contracts;
using LogQuota.Shared.Json;

namespace LogQuota.Shared.Tests;

/// <summary>
/// Every wire contract against a hand-written JSON sample spelled as SPEC §3/§4 spells it:
/// the sample reads into the expected values and the record writes back exactly the sample.
/// </summary>
public sealed class ContractJsonTests
{
    private static T RoundTrip<T>(string json)
    {
        var value = JsonSerializer.Deserialize<T>(json, LogQuotaJson.StrictOptions)!;
        var written = JsonSerializer.Serialize(value, LogQuotaJson.Options);
        Assert.True(
            JsonNode.DeepEquals(JsonNode.Parse(json), JsonNode.Parse(written)),
            $"round trip changed the JSON:\nexpected {json}\nactual   {written}");
        return value;
    }

    [Fact]
    public void SubmitBody_MatchesSpecFieldNames()
    {
        const string json = """
            {"job_id": "0b4a3f4e-5a36-4c1e-9d0e-3b1f2a6c7d80",
             "run": {"id": "5f2c8a90-1b2d-4e3f-8a7b-6c5d4e3f2a1b", "run_name": "train-1"},
             "job_spec": {"commands": ["echo hi", "python train.py"], "env": {"A": "1"},
                          "working_dir": "/tmp/w", "max_duration": 60, "log_quota_hour": 1000, "tty": false,
                          "log_quota_action": "truncate", "log_quota_warn_at": [75, 90], "log_quota_kill_grace": 30,
                          "code_hash": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}}
            """;
        var body = RoundTrip<SubmitBody>(json);
        Assert.Equal(Guid.Parse("0b4a3f4e-5a36-4c1e-9d0e-3b1f2a6c7d80"), body.JobId);
        Assert.Equal("train-1", body.Run.RunName);
        Assert.Equal(["echo hi", "python train.py"], body.JobSpec.Commands);
        Assert.Equal("1", body.JobSpec.Env!["A"]);
        Assert.Equal("/tmp/w", body.JobSpec.WorkingDir);
        Assert.Equal("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", body.JobSpec.CodeHash);
        Assert.Equal(60, body.JobSpec.MaxDuration);
        Assert.Equal(1000, body.JobSpec.LogQuotaHour);
        Assert.False(body.JobSpec.Tty);
        Assert.Equal(LogQuotaAction.Truncate, body.JobSpec.LogQuotaAction);
        Assert.Equal([75, 90], body.JobSpec.LogQuotaWarnAt!);
        Assert.Equal(30, body.JobSpec.LogQuotaKillGrace);
    }

    [Fact]
    public void JobSpec_DefaultsToTtyAndUnlimitedQuota_WhenFieldsAreAbsent()
    {
        var spec = JsonSerializer.Deserialize<JobSpec>("""{"commands": ["true"]}""", LogQuotaJson.StrictOptions)!;
        Assert.True(spec.Tty);
        Assert.Null(spec.LogQuotaHour);
        Assert.Null(spec.Env);
        Assert.Null(spec.MaxDuration);
        Assert.Equal(LogQuotaAction.Kill, spec.LogQuotaAction);
        Assert.Null(spec.LogQuotaWarnAt);
        Assert.Equal(0, spec.LogQuotaKillGrace);
    }

    [Fact]
    public void PullResponse_MatchesSpecFieldNames_WithBase64Messages()
    {
        const string json = """
            {"job_states": [{"state": "running", "timestamp": 1764400000000, "termination_reason": null, "termination_message": null, "exit_status": null},
                            {"state": "failed", "timestamp": 1764400000005, "termination_reason": "log_quota_exceeded",
                             "termination_message": "Job log output exceeded the hourly quota of 100 bytes", "exit_status": null}],
             "job_logs": [{"timestamp": 1764400000001, "log_source": "stdout", "message": "aGVsbG8K"},
                          {"timestamp": 1764400000003, "log_source": "runner", "message": "W2xvZ3F1b3RhXSBoaQo="}],
             "last_updated": 1764400000005, "has_more": false, "log_bytes_hour": 6, "live": null,
             "log_quota": {"limit": 100, "action": "kill", "used_bytes_hour": 6, "bucket_started_at": "2026-11-29T06:00:00.000Z",
                           "bucket_resets_at": "2026-11-29T07:00:00.000Z", "dropped_bytes": 94, "exceeded_at": "2026-11-29T06:27:20.123Z",
                           "report": {"bucket_started_at": "2026-11-29T06:00:00.000Z", "top_lines": [{"line": "hello", "count": 17, "error": 0}],
                                      "bytes_per_minute": [100], "dropped_bytes": 0, "dropped_lines": 0}},
             "job_events": [{"timestamp": 1764400000002, "type": "log_quota_exceeded", "message": "log quota of 100 B for this hour reached"}]}
            """;
        var pull = RoundTrip<PullResponse>(json);
        Assert.Equal(JobState.Failed, pull.JobStates[1].State);
        Assert.Equal(TerminationReason.LogQuotaExceeded, pull.JobStates[1].TerminationReason);
        Assert.Equal("hello\n", Encoding.UTF8.GetString(pull.JobLogs[0].Message));
        Assert.Equal(1764400000005, pull.LastUpdated);
        Assert.False(pull.HasMore);
        Assert.Equal(6, pull.LogBytesHour);
        Assert.Equal(LogSource.Runner, pull.JobLogs[1].LogSource);
        Assert.Equal("[logquota] hi\n", Encoding.UTF8.GetString(pull.JobLogs[1].Message));
        Assert.Equal(LogQuotaAction.Kill, pull.LogQuota!.Action);
        Assert.Equal(("hello", 17L), (pull.LogQuota.Report!.TopLines[0].Line, pull.LogQuota.Report.TopLines[0].Count));
        Assert.Equal(JobEventTypes.LogQuotaExceeded, pull.JobEvents![0].Type);
    }

    [Fact]
    public void StopBody_And_Healthcheck_MatchSpecFieldNames()
    {
        var stop = RoundTrip<StopBody>("""{"termination_reason": "terminated_by_user", "termination_message": "stopped by alice"}""");
        Assert.Equal(TerminationReason.TerminatedByUser, stop.TerminationReason);
        var health = RoundTrip<HealthcheckResponse>(
            """{"service": "logquota-runner", "version": "0.1.0", "isolation": {"kill": "pid_namespace", "users": "per_job"}}""");
        Assert.Equal("logquota-runner", health.Service);
        Assert.Equal(new IsolationInfo(IsolationKill.PidNamespace, IsolationUsers.PerJob), health.Isolation);
        Assert.Equal(IsolationKill.ProcessScan, RoundTrip<IsolationInfo>("""{"kill": "process_scan", "users": "shared"}""").Kill);
        var limits = RoundTrip<IsolationInfo>("""{"kill": "cgroup", "users": "per_job", "memory_max": 67108864, "disk_max": 10737418240}""");
        Assert.Equal((67108864L, 10737418240L), (limits.MemoryMax, limits.DiskMax));
    }

    [Fact]
    public void SubmitRunRequest_MatchesSpecFieldNames()
    {
        const string json = """
            {"run_name": "chatty", "commands": ["yes"], "env": {"K": "V"}, "working_dir": null,
             "max_duration": 30, "log_quota_hour": 1000, "tty": true, "log_quota_action": "observe", "log_quota_kill_grace": 0,
             "code_hash": null}
            """;
        var request = RoundTrip<SubmitRunRequest>(json);
        Assert.Equal("chatty", request.RunName);
        Assert.Equal(1000, request.LogQuotaHour);
        Assert.True(request.Tty);
        Assert.Equal(LogQuotaAction.Observe, request.LogQuotaAction);
    }

    [Fact]
    public void RunDetails_MatchesSpecFieldNames_WithMillisecondUtcTimes()
    {
        const string json = """
            {"run_name": "chatty", "status": "failed", "status_message": "error", "error": "log quota exceeded",
             "termination_reason": "log_quota_exceeded", "termination_message": "Job log output exceeded the hourly quota of 1000 bytes",
             "exit_status": null, "submitted_at": "2026-11-29T06:27:20.123Z", "finished_at": "2026-11-29T06:27:21.000Z",
             "log_quota_hour": 1000, "log_bytes_hour": 990, "log_truncated": false,
             "log_quota": {"limit": 1000, "action": "kill", "used_bytes_hour": 990, "bucket_started_at": "2026-11-29T06:27:20.000Z",
                           "bucket_resets_at": "2026-11-29T07:27:20.000Z", "dropped_bytes": 52, "exceeded_at": "2026-11-29T06:27:21.000Z", "report": null},
             "jobs": [{"job_id": "0b4a3f4e-5a36-4c1e-9d0e-3b1f2a6c7d80", "status": "failed", "status_message": "error",
                       "error": "log quota exceeded", "termination_reason": "log_quota_exceeded",
                       "termination_message": "Job log output exceeded the hourly quota of 1000 bytes", "exit_status": null,
                       "runner": "http://127.0.0.1:10999",
                       "job_spec": {"commands": ["yes"], "env": null, "working_dir": null, "max_duration": null, "log_quota_hour": 1000, "tty": true,
                                    "log_quota_action": "kill", "log_quota_warn_at": [80], "log_quota_kill_grace": 0, "code_hash": null}}],
             "events": [{"timestamp": "2026-11-29T06:27:21.000Z", "type": "log_quota_exceeded", "message": "log quota of 1000 B for this hour reached; the job is being killed"}]}
            """;
        var run = RoundTrip<RunDetails>(json);
        Assert.Equal(RunStatus.Failed, run.Status);
        Assert.Equal(new DateTimeOffset(2026, 11, 29, 6, 27, 20, 123, TimeSpan.Zero), run.SubmittedAt);
        Assert.Equal(JobStatus.Failed, run.Jobs[0].Status);
        Assert.Equal(1000, run.Jobs[0].JobSpec.LogQuotaHour);
        Assert.Equal(52, run.LogQuota!.DroppedBytes);
        Assert.Equal(JobEventTypes.LogQuotaExceeded, run.Events[0].Type);
    }

    [Fact]
    public void RunRow_And_Logs_MatchSpecFieldNames()
    {
        const string row = """
            {"run_name": "ok", "status": "done", "status_message": "exited (0)", "error": null, "termination_reason": null,
             "termination_message": null, "exit_status": 0, "submitted_at": "2026-11-29T06:27:20.123Z", "finished_at": null,
             "log_quota_hour": null, "log_bytes_hour": 0, "log_truncated": false, "log_quota": null}
            """;
        Assert.Equal("exited (0)", RoundTrip<RunRow>(row).StatusMessage);
        var logs = RoundTrip<LogsResponse>("""{"logs": [{"timestamp": "2026-11-29T06:27:20.001Z", "log_source": "stdout", "message": "/w=="}], "next_token": "abc", "live": null}""");
        Assert.Equal([0xFF], logs.Logs[0].Message);
        Assert.Equal("abc", logs.NextToken);
        Assert.Null(logs.Live);
    }

    [Fact]
    public void LogsLive_IsBase64LikeMessages()
    {
        var logs = RoundTrip<LogsResponse>("""{"logs": [], "next_token": null, "live": "NTAlfCMjIyMjfApiYXI="}""");

        Assert.Equal("50%|#####|\nbar", System.Text.Encoding.UTF8.GetString(logs.Live!));
    }

    [Theory]
    [InlineData(JobState.Running, "running")]
    [InlineData(JobState.Terminating, "terminating")]
    [InlineData(JobState.Done, "done")]
    [InlineData(JobState.Failed, "failed")]
    [InlineData(JobState.Terminated, "terminated")]
    public void JobState_IsWrittenAsSpecName(JobState state, string wire) =>
        Assert.Equal($"\"{wire}\"", JsonSerializer.Serialize(state, LogQuotaJson.Options));

    [Theory]
    [InlineData(TerminationReason.ContainerExitedWithError, "container_exited_with_error")]
    [InlineData(TerminationReason.ExecutorError, "executor_error")]
    [InlineData(TerminationReason.MaxDurationExceeded, "max_duration_exceeded")]
    [InlineData(TerminationReason.LogQuotaExceeded, "log_quota_exceeded")]
    [InlineData(TerminationReason.TerminatedByServer, "terminated_by_server")]
    [InlineData(TerminationReason.TerminatedByUser, "terminated_by_user")]
    [InlineData(TerminationReason.InstanceUnreachable, "instance_unreachable")]
    [InlineData(TerminationReason.OutOfMemory, "out_of_memory")]
    [InlineData(TerminationReason.DiskQuotaExceeded, "disk_quota_exceeded")]
    public void TerminationReason_RoundTripsAsSpecName(TerminationReason reason, string wire)
    {
        Assert.Equal($"\"{wire}\"", JsonSerializer.Serialize(reason, LogQuotaJson.Options));
        Assert.Equal(reason, JsonSerializer.Deserialize<TerminationReason>($"\"{wire}\"", LogQuotaJson.Options));
    }

    [Theory]
    [InlineData(RunStatus.Pending, "pending")]
    [InlineData(RunStatus.Submitted, "submitted")]
    [InlineData(RunStatus.Running, "running")]
    [InlineData(RunStatus.Terminating, "terminating")]
    [InlineData(RunStatus.Terminated, "terminated")]
    [InlineData(RunStatus.Failed, "failed")]
    [InlineData(RunStatus.Done, "done")]
    public void RunStatus_IsWrittenAsSpecName(RunStatus status, string wire) =>
        Assert.Equal($"\"{wire}\"", JsonSerializer.Serialize(status, LogQuotaJson.Options));

    [Theory]
    [InlineData(JobStatus.Submitted, "submitted")]
    [InlineData(JobStatus.Provisioning, "provisioning")]
    [InlineData(JobStatus.Running, "running")]
    [InlineData(JobStatus.Terminating, "terminating")]
    [InlineData(JobStatus.Terminated, "terminated")]
    [InlineData(JobStatus.Aborted, "aborted")]
    [InlineData(JobStatus.Failed, "failed")]
    [InlineData(JobStatus.Done, "done")]
    public void JobStatus_IsWrittenAsSpecName(JobStatus status, string wire) =>
        Assert.Equal($"\"{wire}\"", JsonSerializer.Serialize(status, LogQuotaJson.Options));

    [Theory]
    [InlineData("\"exploded\"", "'exploded' is not a valid job_state; expected one of: done, failed, running, terminated, terminating.")]
    [InlineData("\"Running\"", "'Running' is not a valid job_state")]
    [InlineData("2", "A job_state must be a string")]
    public void UnknownEnumValue_IsRejected_WithTheAllowedValues(string json, string expected)
    {
        var error = Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<JobState>(json, LogQuotaJson.Options));
        Assert.StartsWith(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void StrictOptions_RejectUnknownFields()
    {
        var error = Assert.Throws<JsonException>(() =>
            JsonSerializer.Deserialize<SubmitRunRequest>("""{"commands": ["true"], "comands": ["x"]}""", LogQuotaJson.StrictOptions));
        Assert.Contains("comands", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MissingRequiredField_IsRejected()
    {
        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<SubmitBody>("""{"run": {"id": "5f2c8a90-1b2d-4e3f-8a7b-6c5d4e3f2a1b", "run_name": "a"}}""", LogQuotaJson.StrictOptions));
        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<JobSpec>("""{"commands": null}""", LogQuotaJson.StrictOptions));
    }

    [Fact]
    public void Times_AreWrittenAsUtcWithMilliseconds()
    {
        var local = new DateTimeOffset(2026, 11, 29, 8, 27, 20, 5, TimeSpan.FromHours(2));
        Assert.Equal("\"2026-11-29T06:27:20.005Z\"", JsonSerializer.Serialize(local, LogQuotaJson.Options));
    }
}
