using LogQuota.Cli.Connection;

namespace LogQuota.Cli.Tests.Connection;

public sealed class ServerConnectionTests : IDisposable
{
    private readonly string _home = Directory.CreateTempSubdirectory("logquota-cli-home-").FullName;

    [Fact]
    public void Defaults_AreTheLocalServerAndItsTokenFile()
    {
        var dir = Path.Combine(_home, ".logquota", "server");
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "admin-token"), "file-token\n");

        var connection = ServerConnection.Resolve(null, null, Env(), _home);

        Assert.Equal(new Uri("http://127.0.0.1:3000"), connection.Url);
        Assert.Equal("file-token", connection.Token);
    }

    [Fact]
    public void TheTokensSource_IsNamed_OptionFirst_ThenTheVariable_ThenTheFile()
    {
        var dir = Path.Combine(_home, ".logquota", "server");
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "admin-token"), "file-token\n");
        var env = Env(("DSTACK_TOKEN", "variable-token"));

        var option = ServerConnection.Resolve(null, "option-token", env, _home);
        var variable = ServerConnection.Resolve(null, null, env, _home);
        var file = ServerConnection.Resolve(null, null, Env(), _home);

        Assert.Equal(("option-token", "given with --token"), (option.Token, option.TokenSource));
        Assert.Equal(("variable-token", "in DSTACK_TOKEN"), (variable.Token, variable.TokenSource));
        Assert.Equal(("file-token", $"from the token file {Path.Combine(dir, "admin-token")}"), (file.Token, file.TokenSource));
    }

    [Fact]
    public void WithoutAHomeDirectory_TheTokenFileNamedInMessages_IsAnAbsolutePath()
    {
        var connection = ServerConnection.Resolve(null, null, Env(), home: "");

        Assert.True(Path.IsPathFullyQualified(connection.TokenFile!), connection.TokenFile);
        Assert.EndsWith("/.logquota/server/admin-token", connection.TokenFile, StringComparison.Ordinal);
    }

    [Fact]
    public void ServerDir_FromTheEnvironment_HoldsTheTokenFile()
    {
        var dir = Path.Combine(_home, "elsewhere");
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "admin-token"), "other-token\n");

        Assert.Equal("other-token", ServerConnection.Resolve(null, null, Env(("DSTACK_SERVER_DIR", dir)), _home).Token);
        Assert.Equal("other-token", ServerConnection.Resolve(null, null, Env(("DSTACK_SERVER_DIR", "~/elsewhere")), _home).Token);
    }

    [Fact]
    public void EnvironmentVariables_BeatTheDefaults_AndOptionsBeatThemAll()
    {
        var env = Env(("DSTACK_SERVER_URL", "http://env-host:1"), ("DSTACK_TOKEN", "env-token"));

        var fromEnv = ServerConnection.Resolve(null, null, env, _home);
        Assert.Equal(new Uri("http://env-host:1"), fromEnv.Url);
        Assert.Equal("env-token", fromEnv.Token);

        var fromOptions = ServerConnection.Resolve("https://opt-host:2", "opt-token", env, _home);
        Assert.Equal(new Uri("https://opt-host:2"), fromOptions.Url);
        Assert.Equal("opt-token", fromOptions.Token);
    }

    [Fact]
    public void NoTokenAnywhere_IsNoToken_AndRemembersWhereItLooked()
    {
        var connection = ServerConnection.Resolve(null, null, Env(), _home);
        Assert.Null(connection.Token);
        Assert.Equal(Path.Combine(_home, ".logquota", "server", "admin-token"), connection.TokenFile);
    }

    [Theory]
    [InlineData("localhost:3000")]
    [InlineData("ftp://host")]
    [InlineData("not a url")]
    public void BadUrl_IsAUsageError(string url)
    {
        var e = Assert.Throws<CliException>(() => ServerConnection.Resolve(url, null, Env(), _home));
        Assert.Equal(CliException.UsageExitCode, e.ExitCode);
        Assert.Contains(url, e.Message, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_home, recursive: true);

    private static Func<string, string?> Env(params (string Name, string Value)[] variables) =>
        name => variables.FirstOrDefault(v => v.Name == name).Value;
}
