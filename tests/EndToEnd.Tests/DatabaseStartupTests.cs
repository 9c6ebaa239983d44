namespace LogQuota.EndToEnd.Tests;

/// <summary>SPEC §6: a database that is damaged or cannot be opened stops start-up with one line naming the file, exit 1.</summary>
public sealed class DatabaseStartupTests
{
    // Over 60 s per case beside a CPU hog (72.7 s in .ci/stress on 9915f14), with no fixed wait: a server starts,
    // stores a run of 200,000 lines (so that the damage falls inside real pages), stops on SIGTERM, and a second server
    // process starts on the damaged file (migrations, then the refusal).
    [Theory]
    [InlineData("truncated", "corrupt or is not a SQLite database", "database disk image is malformed")]
    [InlineData("header", "corrupt or is not a SQLite database", "file is not a database")]
    [InlineData("directory", "cannot be opened", "unable to open database file")]
    public async Task Server_WithADamagedOrUnopenableDatabase_ExitsOne_WithOneLineNamingTheFile(string damage, string says, string sqliteSays)
    {
        // A real database of the server's own, with a run of 200,000 lines in it: several 64 KiB pages of log events.
        string dir;
        await using (var system = await SystemProcesses.StartAsync(runners: 0))
        {
            await system.SubmitAsync(new LogQuota.Shared.Contracts.SubmitRunRequest(["seq 1 200000"], RunName: "filled", Tty: false));
            await system.WaitFinishedAsync("filled");
            Assert.Equal(0, await system.TerminateServerAsync());
            dir = system.ServerDir;
            var database = Path.Combine(dir, "server.db");
            Assert.True(new FileInfo(database).Length > 4 * 65536, $"the database holds {new FileInfo(database).Length} bytes");
            Damage(database, damage);

            var server = await ExitedProcess.RunAsync("Server", new()
            {
                ["DSTACK_SERVER_DIR"] = dir,
                ["DSTACK_SERVER_PORT"] = $"{SystemProcesses.FreePort()}",
                ["DSTACK_SERVER_ADMIN_TOKEN"] = SystemProcesses.AdminToken,
            });

            server.AssertOneLine(1, $"The database {database} ", says, sqliteSays);
        }
    }

    private static void Damage(string database, string damage)
    {
        foreach (var sidecar in new[] { database + "-wal", database + "-shm" }.Where(File.Exists))
        {
            File.Delete(sidecar);
        }

        switch (damage)
        {
            case "truncated":
                // A disk that lost the file's tail: the schema says there are pages the file no longer has.
                using (var file = new FileStream(database, FileMode.Open, FileAccess.Write))
                {
                    file.SetLength(3 * 65536);
                }

                break;
            case "header":
                // The page size in the header (bytes 16-17) becomes 3, which no SQLite file has.
                using (var file = new FileStream(database, FileMode.Open, FileAccess.Write))
                {
                    file.Seek(16, SeekOrigin.Begin);
                    file.Write([0, 3]);
                }

                break;
            case "directory":
                File.Delete(database);
                Directory.CreateDirectory(database);
                break;
        }
    }
}
