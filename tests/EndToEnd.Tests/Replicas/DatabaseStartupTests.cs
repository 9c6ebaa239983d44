namespace LogQuota.EndToEnd.Tests.Replicas;

/// <summary>
/// The database's start-up failures are one line and exit 1: SQLite is one server process, so a second server on the
/// same file, even from another directory, refuses to start; a PostgreSQL URL that is wrong or leads nowhere is named
/// (without its password).
/// </summary>
public sealed class DatabaseStartupTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("logquota-dbstartup-");

    public void Dispose() => _dir.Delete(recursive: true);

    [Fact]
    public async Task SecondServer_OnTheSameSqliteFile_FromAnotherDirectory_ExitsOne_NamingTheFileAndHolder()
    {
        var database = Path.Combine(_dir.FullName, "shared.db");
        await using var system = await SystemProcesses.StartAsync(runners: 0, serverSettings: new() { ["DSTACK_DATABASE_URL"] = $"sqlite://{database}" });

        var second = await ExitedProcess.RunAsync("Server", new()
        {
            ["DSTACK_SERVER_DIR"] = Path.Combine(_dir.FullName, "other"),
            ["DSTACK_SERVER_PORT"] = $"{SystemProcesses.FreePort()}",
            ["DSTACK_SERVER_ADMIN_TOKEN"] = SystemProcesses.AdminToken,
            ["DSTACK_DATABASE_URL"] = $"sqlite://{database}",
        });

        second.AssertOneLine(1, database, "in use", $"pid {system.ServerProcess.Id}", "PostgreSQL");
        using var response = await system.Server.GetAsync(new Uri("/api/runs", UriKind.Relative));
        Assert.True(response.IsSuccessStatusCode);
    }

    [Fact]
    public async Task Server_OnAPostgresUrlWithNoServerBehindIt_ExitsOne_WithOneLine_WithoutThePassword()
    {
        var port = SystemProcesses.FreePort();
        var server = await ExitedProcess.RunAsync("Server", new()
        {
            ["DSTACK_SERVER_DIR"] = Path.Combine(_dir.FullName, "server"),
            ["DSTACK_SERVER_PORT"] = $"{SystemProcesses.FreePort()}",
            ["DSTACK_SERVER_ADMIN_TOKEN"] = SystemProcesses.AdminToken,
            ["DSTACK_DATABASE_URL"] = $"postgresql://lq:hunter2hunter2@127.0.0.1:{port}/logquota",
        });

        var line = server.AssertOneLine(1, "DSTACK_DATABASE_URL", $"127.0.0.1:{port}", "logquota");
        Assert.DoesNotContain("hunter2", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Server_OnABadPostgresUrl_ExitsOne_NamingTheVariable_WithoutThePassword()
    {
        var server = await ExitedProcess.RunAsync("Server", new()
        {
            ["DSTACK_SERVER_DIR"] = Path.Combine(_dir.FullName, "server"),
            ["DSTACK_SERVER_PORT"] = $"{SystemProcesses.FreePort()}",
            ["DSTACK_DATABASE_URL"] = "postgresql://lq:hunter2hunter2@db:5432/",
        });

        var line = server.AssertOneLine(1, "DSTACK_DATABASE_URL", "names no database");
        Assert.DoesNotContain("hunter2", line, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task Server_WithAWrongPostgresPassword_ExitsOne_NamingTheDatabase()
    {
        using var database = new PostgresTestDatabase();
        var url = new UriBuilder(database.Url) { Password = "wrong-password" }.Uri.ToString().TrimEnd('/');
        var server = await ExitedProcess.RunAsync("Server", new()
        {
            ["DSTACK_SERVER_DIR"] = Path.Combine(_dir.FullName, "server"),
            ["DSTACK_SERVER_PORT"] = $"{SystemProcesses.FreePort()}",
            ["DSTACK_SERVER_ADMIN_TOKEN"] = SystemProcesses.AdminToken,
            ["DSTACK_DATABASE_URL"] = url,
        });

        var line = server.AssertOneLine(1, "DSTACK_DATABASE_URL", "28P01");
        Assert.DoesNotContain("wrong-password", line, StringComparison.Ordinal);
    }
}
