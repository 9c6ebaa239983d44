using LogQuota.Server.Configuration;
using LogQuota.Server.Runners;
using LogQuota.Server.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;

namespace LogQuota.Server.Tests.Configuration;

/// <summary>
/// The local runner honours the runner's job settings from the server's environment, read by the runner's own parser:
/// the values and the one-line errors are the stand-alone runner's.
/// </summary>
public sealed class LocalRunnerSettingsTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void JobSettings_AreTakenFromTheServersEnvironment()
    {
        var local = Read(
            ("DSTACK_RUNNER_JOB_UIDS", "300000-300999"),
            ("DSTACK_RUNNER_JOB_PIDS_MAX", "77"),
            ("DSTACK_RUNNER_WORK_DIR", "/srv/logquota/work/"),
            ("DSTACK_RUNNER_JOB_USER", "trainer"),
            ("DSTACK_RUNNER_JOB_ENV_PASS", "HF_TOKEN, WANDB_API_KEY"),
            ("DSTACK_RUNNER_JOB_DISK_MAX", "10GiB"))!;

        Assert.Equal(new Runner.Configuration.UidRange(300000, 300999), local.JobUids);
        Assert.Equal(77, local.JobPidsMax);
        Assert.Equal("/srv/logquota/work", local.WorkDir);
        Assert.Equal("trainer", local.JobUser);
        Assert.Equal(["HF_TOKEN", "WANDB_API_KEY"], local.JobEnvPass);
        Assert.Equal(10L << 30, local.JobDiskMax);
        Assert.Equal(Path.Combine(_dir.Path, "runner"), local.Dir);
    }

    [Fact]
    public void Defaults_AreTheRunnersDefaults()
    {
        var local = Read()!;

        Assert.Equal(Runner.Configuration.UidRange.Default, local.JobUids);
        Assert.Equal(4096, local.JobPidsMax);
        Assert.Null(local.WorkDir);
        Assert.Null(local.JobUser);
        Assert.Empty(local.JobEnvPass);
        Assert.Null(local.JobDiskMax);
    }

    [Theory]
    [InlineData("DSTACK_RUNNER_JOB_UIDS", "0-99", "DSTACK_RUNNER_JOB_UIDS must be a range of uids FIRST-LAST above 0 (e.g. 200000-299999), got '0-99'")]
    [InlineData("DSTACK_RUNNER_WORK_DIR", "work", "DSTACK_RUNNER_WORK_DIR must be an absolute path, got 'work'")]
    [InlineData("DSTACK_RUNNER_JOB_DISK_MAX", "10 gigs", "DSTACK_RUNNER_JOB_DISK_MAX must be a size of at least 1MiB, such as 10GiB or 512MiB, got '10 gigs'")]
    [InlineData("DSTACK_RUNNER_JOB_ENV_PASS", "PATH,DSTACK_SERVER_ADMIN_TOKEN", "DSTACK_RUNNER_JOB_ENV_PASS must not name LogQuota's own DSTACK_ settings, got 'DSTACK_SERVER_ADMIN_TOKEN'")]
    public void ABadJobSetting_FailsWithTheRunnersLine(string name, string value, string line)
    {
        var e = Assert.Throws<Runner.Configuration.SettingsException>(() => Read((name, value)));
        Assert.Equal(line, e.Message);
    }

    [Fact]
    public void WithRemoteRunners_NothingIsRead()
    {
        Assert.Null(Read(("DSTACK_SERVER_RUNNERS", "http://10.0.0.5:10999"), ("DSTACK_RUNNER_JOB_UIDS", "not read")));
    }

    private Runner.Configuration.RunnerSettings? Read(params (string Name, string Value)[] values)
    {
        var data = new Dictionary<string, string?> { ["DSTACK_SERVER_DIR"] = _dir.Path };
        foreach (var (name, value) in values)
        {
            data[name] = value;
        }

        var configuration = new ConfigurationBuilder().AddInMemoryCollection(data).Build();
        return RunnerServiceExtensions.ReadLocalRunner(ServerSettingsLoader.Read(configuration), configuration);
    }
}
