using LogQuota.Server.Configuration;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;

namespace LogQuota.Server.Tests.Infrastructure;

/// <summary>
/// The SQLite pool of one test server, cleared when that server is disposed so its database file is closed before its
/// directory goes. Never <see cref="SqliteConnection.ClearAllPools"/>: that clears every pool in the test process, and
/// a clear that lands while another test's connection is being opened disposes the native handle that connection has
/// just taken ("Cannot access a disposed object. Object name: 'SQLitePCL.sqlite3'" inside <c>SqliteConnection.Open</c>,
/// seen in CI in <c>HostileInputTests</c> while other test classes disposed their servers).
/// </summary>
/// <remarks>Compiled into the Server, CLI and web test projects, whose factories each start the real server.</remarks>
internal sealed class OwnSqlitePool
{
    private string? _connectionString;

    /// <summary>Reads the server's connection string from its services, when its database is SQLite.</summary>
    public void RememberFrom(IServiceProvider services)
    {
        var settings = services.GetRequiredService<ServerSettings>();
        _connectionString = settings.DatabaseProvider == DatabaseProvider.Sqlite ? settings.ConnectionString : null;
    }

    /// <summary>Closes this server's idle pooled connections; nothing when its host was never built or is not on SQLite.</summary>
    public void Clear()
    {
        if (_connectionString is { } connectionString)
        {
            using var connection = new SqliteConnection(connectionString);
            SqliteConnection.ClearPool(connection);
        }
    }
}
