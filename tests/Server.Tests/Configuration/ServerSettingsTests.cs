using LogQuota.Server.Configuration;
using LogQuota.Server.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;

namespace LogQuota.Server.Tests.Configuration;

public sealed class ServerSettingsTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData("abc")]
    [InlineData("-1")]
    [InlineData("1.5")]
    [InlineData("1e6")]
    [InlineData("50MB")]
    [InlineData("0x10")]
    [InlineData("+5")]
    [InlineData("9223372036854775808")]
    [InlineData("99999999999999999999999")]
    public void BadQuota_FailsNamingTheVariableAndTheValue(string value)
    {
        var e = Assert.Throws<SettingsException>(() => Load(("DSTACK_SERVER_LOG_QUOTA_PER_JOB_HOUR", value)));
        Assert.Contains("DSTACK_SERVER_LOG_QUOTA_PER_JOB_HOUR", e.Message, StringComparison.Ordinal);
        Assert.Contains(value, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void Quota_DefaultsTo50MiB() =>
        Assert.Equal(52_428_800, Load().LogQuotaPerJobHour);

    [Fact]
    public void QuotaZero_DisablesIt()
    {
        var settings = Load(("DSTACK_SERVER_LOG_QUOTA_PER_JOB_HOUR", "0"));
        Assert.Equal(0, settings.LogQuotaPerJobHour);
        Assert.Null(settings.LogQuotaOrNull);
    }

    [Fact]
    public void Quota_TakesTheLargestLong() =>
        Assert.Equal(long.MaxValue, Load(("DSTACK_SERVER_LOG_QUOTA_PER_JOB_HOUR", "9223372036854775807")).LogQuotaPerJobHour);

    [Theory]
    [InlineData("DSTACK_SERVER_PORT", "http")]
    [InlineData("DSTACK_SERVER_PORT", "70000")]
    [InlineData("DSTACK_SERVER_PORT", "-1")]
    [InlineData("DSTACK_SERVER_HOST", "not a host")]
    [InlineData("DSTACK_SERVER_HOST", "nothost")]
    [InlineData("DSTACK_SERVER_HOST", "999.1.1.1")]
    [InlineData("DSTACK_SERVER_RUNNERS", "ftp://runner:10999")]
    [InlineData("DSTACK_SERVER_RUNNERS", "http://ok:1,not a url")]
    [InlineData("DSTACK_SERVER_RUNNER_UNREACHABLE_TIMEOUT", "soon")]
    [InlineData("DSTACK_SERVER_RUNNER_UNREACHABLE_TIMEOUT", "-5")]
    [InlineData("DSTACK_SERVER_RUNNER_UNREACHABLE_TIMEOUT", "0")]
    [InlineData("DSTACK_SERVER_POLL_INTERVAL", "1s")]
    [InlineData("DSTACK_SERVER_POLL_INTERVAL", "1e9")]
    [InlineData("DSTACK_DATABASE_URL", "postgresql://db/logquota")]
    [InlineData("DSTACK_DATABASE_URL", "mysql://lq:pw@db/logquota")]
    [InlineData("DSTACK_SERVER_JOB_LEASE", "soon")]
    [InlineData("DSTACK_SERVER_JOB_LEASE", "2")]
    [InlineData("DSTACK_SERVER_LOG_QUOTA_ACTION", "delete")]
    [InlineData("DSTACK_SERVER_LOG_QUOTA_ACTION", "Kill")]
    [InlineData("DSTACK_SERVER_LOG_QUOTA_WARN_AT", "eighty")]
    [InlineData("DSTACK_SERVER_LOG_QUOTA_WARN_AT", "0")]
    [InlineData("DSTACK_SERVER_LOG_QUOTA_WARN_AT", "100")]
    [InlineData("DSTACK_SERVER_LOG_QUOTA_WARN_AT", "50,-5")]
    [InlineData("DSTACK_SERVER_LOG_QUOTA_WARN_AT", "1,2,3,4,5,6,7,8,9,10,11")]
    [InlineData("DSTACK_SERVER_CODE_MAX_BYTES", "lots")]
    [InlineData("DSTACK_SERVER_CODE_MAX_BYTES", "-1")]
    [InlineData("DSTACK_SERVER_CODE_MAX_BYTES", "128 parsecs")]
    [InlineData("DSTACK_SERVER_CODE_MAX_BYTES", "99999999999TiB")]
    public void OtherBadSettings_FailNamingTheVariable(string name, string value)
    {
        var e = Assert.Throws<SettingsException>(() => Load((name, value)));
        Assert.StartsWith(name + "=", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null, 134_217_728)]
    [InlineData("0", 0)]
    [InlineData("1048576", 1_048_576)]
    [InlineData("64MiB", 67_108_864)]
    [InlineData("1G", 1_073_741_824)]
    [InlineData("500MB", 500_000_000)]
    public void CodeMaxBytes_TakesBytesWithUnits_DefaultsTo128MiB(string? value, long expected) =>
        Assert.Equal(expected, (value is null ? Load() : Load(("DSTACK_SERVER_CODE_MAX_BYTES", value))).CodeMaxBytes);

    [Fact]
    public void JobLease_MayBeShort_WhenThePollIntervalIs()
    {
        var settings = Load(("DSTACK_SERVER_JOB_LEASE", "0.6"), ("DSTACK_SERVER_POLL_INTERVAL", "0.2"));
        Assert.Equal(TimeSpan.FromSeconds(0.6), settings.JobLease);
        Assert.Equal(TimeSpan.FromSeconds(15), Load().JobLease);
    }

    [Fact]
    public void Defaults_FollowTheSpec()
    {
        var settings = Load();
        Assert.Equal("127.0.0.1", settings.Host);
        Assert.Equal(3000, settings.Port);
        Assert.Equal(TimeSpan.FromSeconds(120), settings.RunnerUnreachableTimeout);
        Assert.Equal(TimeSpan.FromSeconds(1), settings.PollInterval);
        Assert.True(settings.UsesEmbeddedRunner);
        Assert.Contains(Path.Combine(_dir.Path, "server.db"), settings.ConnectionString, StringComparison.Ordinal);
    }

    [Fact]
    public void QuotaPolicy_DefaultsToKill_WarningAt80()
    {
        var settings = Load();
        Assert.Equal(LogQuota.Shared.Contracts.LogQuotaAction.Kill, settings.LogQuotaAction);
        Assert.Equal([80], settings.LogQuotaWarnAt);
    }

    [Theory]
    [InlineData("truncate", "90, 75,90", new[] { 75, 90 })]
    [InlineData("observe", "", new int[0])]
    [InlineData("kill", "95%", new[] { 95 })]
    public void QuotaPolicy_IsRead(string action, string warnAt, int[] expected)
    {
        var settings = Load(("DSTACK_SERVER_LOG_QUOTA_ACTION", action), ("DSTACK_SERVER_LOG_QUOTA_WARN_AT", warnAt));
        Assert.Equal(action, settings.LogQuotaAction.ToString().ToLowerInvariant());
        Assert.Equal(expected, settings.LogQuotaWarnAt);
    }

    [Fact]
    public void Runners_AreParsedAndNormalized()
    {
        var settings = Load(("DSTACK_SERVER_RUNNERS", " http://a:10999 ,https://b.example/runner/, http://a:10999/"));
        Assert.Equal(["http://a:10999/", "https://b.example/runner/"], settings.Runners.Select(r => r.ToString()));
        Assert.False(settings.UsesEmbeddedRunner);
    }

    [Theory]
    [InlineData("sqlite:///{dir}/a.db")]
    [InlineData("Data Source={dir}/a.db")]
    public void DatabaseUrl_AcceptsSqlite(string url)
    {
        var settings = Load(("DSTACK_DATABASE_URL", url.Replace("{dir}", _dir.Path, StringComparison.Ordinal)));
        Assert.Contains(Path.Combine(_dir.Path, "a.db"), settings.ConnectionString, StringComparison.Ordinal);
    }

    [Fact]
    public void AdminToken_IsGeneratedOnce_StoredOwnerOnly_AndPrinted()
    {
        var output = new StringWriter();
        var first = ServerSettingsLoader.Load(Configuration(), output).AdminToken;
        var second = ServerSettingsLoader.Load(Configuration(), TextWriter.Null).AdminToken;

        Assert.Equal(first, second);
        Assert.True(first.Length >= 32);
        Assert.Contains(first, output.ToString(), StringComparison.Ordinal);
        var path = Path.Combine(_dir.Path, AdminTokenFile.FileName);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        }
    }

    [Theory]
    [InlineData("DSTACK_SERVER_ADMIN_TOKEN", "x")]
    [InlineData("DSTACK_SERVER_ADMIN_TOKEN", "fifteen-chars-x")]
    [InlineData("DSTACK_SERVER_ADMIN_TOKEN", "sixteen chars with a space")]
    [InlineData("DSTACK_RUNNER_TOKEN", "short")]
    public void Tokens_ShorterThan16OrWithWhitespace_FailNamingTheVariable_NotTheValue(string name, string value)
    {
        var e = Assert.Throws<SettingsException>(() => Load((name, value)));
        Assert.StartsWith(name + " is invalid: it must be at least 16 characters without whitespace", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(value, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("localhost")]
    [InlineData("0.0.0.0")]
    [InlineData("::1")]
    [InlineData("[::]")]
    public void Host_TakesAddressesAndLocalhost(string host) =>
        Assert.Equal(host, Load(("DSTACK_SERVER_HOST", host)).Host);

    [Fact]
    public void AdminToken_FromTheEnvironment_WritesNoFile()
    {
        Assert.Equal("s3cret-0123456789", Load(("DSTACK_SERVER_ADMIN_TOKEN", "s3cret-0123456789")).AdminToken);
        Assert.False(File.Exists(Path.Combine(_dir.Path, AdminTokenFile.FileName)));
    }

    private ServerSettings Load(params (string Name, string Value)[] values) =>
        ServerSettingsLoader.Load(Configuration(values), TextWriter.Null);

    private IConfiguration Configuration(params (string Name, string Value)[] values)
    {
        var data = new Dictionary<string, string?> { ["DSTACK_SERVER_DIR"] = _dir.Path };
        foreach (var (name, value) in values)
        {
            data[name] = value;
        }

        return new ConfigurationBuilder().AddInMemoryCollection(data).Build();
    }
}
