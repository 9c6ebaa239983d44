using System.Net;
using System.Net.Sockets;

namespace LogQuota.EndToEnd.Tests;

/// <summary>
/// Every start-up failure of the real binaries is one line on stderr and a documented exit code (README): the server
/// exits 1; the runner 2 for a bad setting and 1 for anything else. Nothing is printed before the line.
/// </summary>
public sealed class StartupFailureTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("logquota-startup-");

    public void Dispose() => _dir.Delete(recursive: true);

    [Theory]
    [InlineData("DSTACK_SERVER_HOST", "nothost")]
    [InlineData("DSTACK_SERVER_HOST", "999.1.1.1")]
    [InlineData("DSTACK_SERVER_ADMIN_TOKEN", "x")]
    [InlineData("DSTACK_SERVER_ADMIN_TOKEN", "sixteen chars with spaces")]
    [InlineData("DSTACK_RUNNER_TOKEN", "short")]
    [InlineData("DSTACK_SERVER_DIR", "/etc/hostname")]
    [InlineData("DSTACK_SERVER_DIR", "/proc/logquota")]
    [InlineData("DSTACK_RUNNER_JOB_UIDS", "0-99")]
    [InlineData("DSTACK_RUNNER_JOB_PIDS_MAX", "lots")]
    [InlineData("DSTACK_RUNNER_WORK_DIR", "relative/work")]
    [InlineData("DSTACK_RUNNER_JOB_USER", "-bad")]
    [InlineData("DSTACK_RUNNER_JOB_ENV_PASS", "DSTACK_SERVER_ADMIN_TOKEN")]
    [InlineData("DSTACK_RUNNER_JOB_DISK_MAX", "10 gigs")]
    public async Task Server_WithABadSetting_ExitsOne_WithOneLineNamingIt_BeforePrintingAnything(string name, string value)
    {
        var server = await ExitedProcess.RunAsync("Server", new()
        {
            ["DSTACK_SERVER_DIR"] = Path.Combine(_dir.FullName, "server"),
            ["DSTACK_SERVER_PORT"] = $"{SystemProcesses.FreePort()}",
            [name] = value,
        });

        var line = server.AssertOneLine(1, name);
        Assert.Equal("", server.Stdout);
        if (name.EndsWith("TOKEN", StringComparison.Ordinal))
        {
            Assert.DoesNotContain(value, line, StringComparison.Ordinal);
        }
        else
        {
            Assert.Contains(value, line, StringComparison.Ordinal);
        }
    }

    // Over 60 s once beside a CPU hog (65.9 s in .ci/stress): a start that fails at its last step, binding the busy
    // port, first runs the new database's migrations and the local runner's probes (10.8 s measured at a load average
    // of 25); the test's wait for the exit is 3 minutes (ExitedProcess.RunAsync).
    [Fact]
    public async Task Server_OnABusyPort_ExitsOne_WithOneLine()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;

        var server = await ExitedProcess.RunAsync("Server", new()
        {
            ["DSTACK_SERVER_DIR"] = Path.Combine(_dir.FullName, "server"),
            ["DSTACK_SERVER_PORT"] = $"{port}",
        });

        server.AssertOneLine(1, $"127.0.0.1:{port}", "already in use", "DSTACK_SERVER_PORT");
    }

    [Fact]
    public async Task BothServices_OnAnAddressOfNoInterface_ExitOne_WithOneLine()
    {
        // 192.0.2.0/24 is TEST-NET-1 (RFC 5737): no machine has it. Kestrel throws the bare SocketException here.
        var server = await ExitedProcess.RunAsync("Server", new()
        {
            ["DSTACK_SERVER_DIR"] = Path.Combine(_dir.FullName, "server"),
            ["DSTACK_SERVER_HOST"] = "192.0.2.1",
            ["DSTACK_SERVER_PORT"] = $"{SystemProcesses.FreePort()}",
            ["DSTACK_SERVER_ADMIN_TOKEN"] = SystemProcesses.AdminToken,
        });
        var runner = await ExitedProcess.RunAsync("Runner", new()
        {
            ["DSTACK_RUNNER_DIR"] = Path.Combine(_dir.FullName, "runner"),
            ["DSTACK_RUNNER_HOST"] = "192.0.2.1",
            ["DSTACK_RUNNER_PORT"] = $"{SystemProcesses.FreePort()}",
            ["DSTACK_RUNNER_TOKEN"] = SystemProcesses.RunnerToken,
        });

        server.AssertOneLine(1, "cannot listen on http://192.0.2.1:", "DSTACK_SERVER_HOST");
        runner.AssertOneLine(1, "cannot listen on http://192.0.2.1:", "DSTACK_RUNNER_HOST");
    }

    [Fact]
    public async Task Server_WithACorruptDatabase_ExitsOne_WithOneLineNamingTheFile()
    {
        var dir = Directory.CreateDirectory(Path.Combine(_dir.FullName, "server")).FullName;
        var database = Path.Combine(dir, "server.db");
        await File.WriteAllTextAsync(database, string.Concat(Enumerable.Repeat("not a database at all\n", 500)));

        var server = await ExitedProcess.RunAsync("Server", new()
        {
            ["DSTACK_SERVER_DIR"] = dir,
            ["DSTACK_SERVER_PORT"] = $"{SystemProcesses.FreePort()}",
            ["DSTACK_SERVER_ADMIN_TOKEN"] = SystemProcesses.AdminToken,
        });

        server.AssertOneLine(1, database, "corrupt or is not a SQLite database");
    }

    [Fact]
    public async Task Server_WhoseLocalRunnerDirectoryIsAFile_ExitsOne_WithOneLine()
    {
        var dir = Directory.CreateDirectory(Path.Combine(_dir.FullName, "server")).FullName;
        await File.WriteAllTextAsync(Path.Combine(dir, "runner"), "");

        var server = await ExitedProcess.RunAsync("Server", new()
        {
            ["DSTACK_SERVER_DIR"] = dir,
            ["DSTACK_SERVER_PORT"] = $"{SystemProcesses.FreePort()}",
            ["DSTACK_SERVER_ADMIN_TOKEN"] = SystemProcesses.AdminToken,
        });

        server.AssertOneLine(1, "The local runner", Path.Combine(dir, "runner"), "is a file, not a directory");
    }

    [Theory]
    [InlineData("sqlite:////proc/logquota/server.db", "cannot be created")]
    [InlineData("sqlite:////etc/hostname/server.db", "cannot be created")]
    [InlineData("sqlite:////etc", "cannot be opened")]
    public async Task Server_WithAnUnusableDatabasePath_ExitsOne_WithOneLineNamingIt(string url, string reason)
    {
        var server = await ExitedProcess.RunAsync("Server", new()
        {
            ["DSTACK_SERVER_DIR"] = Path.Combine(_dir.FullName, "server"),
            ["DSTACK_SERVER_PORT"] = $"{SystemProcesses.FreePort()}",
            ["DSTACK_SERVER_ADMIN_TOKEN"] = SystemProcesses.AdminToken,
            ["DSTACK_DATABASE_URL"] = url,
        });

        server.AssertOneLine(1, "The database /", reason, "DSTACK_DATABASE_URL");
    }

    [Theory]
    [InlineData("/etc/hostname", "is a file, not a directory")]
    [InlineData("/proc/logquota", "cannot be created")]
    public async Task Runner_WithAnUnusableDirectory_ExitsTwo_WithOneLineNamingIt(string dir, string reason)
    {
        var runner = await ExitedProcess.RunAsync("Runner", new()
        {
            ["DSTACK_RUNNER_DIR"] = dir,
            ["DSTACK_RUNNER_PORT"] = "0",
        });

        runner.AssertOneLine(2, $"DSTACK_RUNNER_DIR={dir}", reason);
    }

    [Theory]
    [InlineData("DSTACK_RUNNER_JOB_UIDS", "200000")]
    [InlineData("DSTACK_RUNNER_JOB_UIDS", "0-99")]
    [InlineData("DSTACK_RUNNER_JOB_PIDS_MAX", "0")]
    [InlineData("DSTACK_RUNNER_JOB_PIDS_MAX", "lots")]
    [InlineData("DSTACK_RUNNER_CODE_MAX_UNPACKED", "1 parsec")]
    [InlineData("DSTACK_RUNNER_WORK_DIR", "relative/work")]
    [InlineData("DSTACK_RUNNER_JOB_USER", "-bad")]
    [InlineData("DSTACK_RUNNER_JOB_ENV_PASS", "NOT-A-NAME")]
    [InlineData("DSTACK_RUNNER_JOB_ENV_PASS", "DSTACK_RUNNER_TOKEN")]
    [InlineData("DSTACK_RUNNER_JOB_DISK_MAX", "512KiB")]
    public async Task Runner_WithABadIsolationSetting_ExitsTwo_WithOneLineNamingIt(string name, string value)
    {
        var runner = await ExitedProcess.RunAsync("Runner", new()
        {
            ["DSTACK_RUNNER_DIR"] = Path.Combine(_dir.FullName, "runner"),
            ["DSTACK_RUNNER_PORT"] = "0",
            [name] = value,
        });

        runner.AssertOneLine(2, name, $"'{value}'");
    }

    [Fact]
    public async Task Runner_WithAJobUserThatDoesNotExist_ExitsTwo_WithOneLineNamingIt()
    {
        var runner = await ExitedProcess.RunAsync("Runner", new()
        {
            ["DSTACK_RUNNER_DIR"] = Path.Combine(_dir.FullName, "runner"),
            ["DSTACK_RUNNER_PORT"] = "0",
            ["DSTACK_RUNNER_WORK_DIR"] = Path.Combine(_dir.FullName, "work"),
            ["DSTACK_RUNNER_JOB_USER"] = "lqnobody-such",
        });

        // As root the user is looked up; otherwise the runner refuses to run jobs as anyone else at all.
        runner.AssertOneLine(2, "DSTACK_RUNNER_JOB_USER=lqnobody-such", Environment.UserName == "root" ? "is not a user of this host" : "only a runner running as root");
    }

    [Fact]
    public async Task Runner_OnABusyPort_ExitsOne_WithOneLine()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;

        var runner = await ExitedProcess.RunAsync("Runner", new()
        {
            ["DSTACK_RUNNER_DIR"] = Path.Combine(_dir.FullName, "runner"),
            ["DSTACK_RUNNER_PORT"] = $"{port}",
        });

        runner.AssertOneLine(1, $"127.0.0.1:{port}", "already in use", "DSTACK_RUNNER_PORT");
    }
}
