using LogQuota.Server.Configuration;
using Npgsql;

namespace LogQuota.Server.Tests.Infrastructure;

/// <summary>
/// The database of one test: SQLite in the server directory (nothing to create), or a fresh PostgreSQL database of
/// its own on the cluster <c>LOGQUOTA_TEST_POSTGRES</c> names (.ci/postgres.sh starts one), dropped on dispose.
/// Without that variable a PostgreSQL test skips with the reason.
/// </summary>
public sealed class TestDatabase : IDisposable
{
    /// <summary>A superuser URL of the test cluster, such as <c>postgresql://logquota:pw@127.0.0.1:5432/postgres</c>.</summary>
    public const string Variable = "LOGQUOTA_TEST_POSTGRES";

    private readonly string? _name;

    private TestDatabase(DatabaseProvider provider, string? url, string? name)
    {
        Provider = provider;
        Url = url;
        _name = name;
    }

    public DatabaseProvider Provider { get; }

    /// <summary>The <c>DSTACK_DATABASE_URL</c> of this database; null for SQLite (the server directory's default file).</summary>
    public string? Url { get; }

    /// <summary>The cluster's URL, or a skip naming the variable and how to set it.</summary>
    public static string ClusterUrl()
    {
        var url = Environment.GetEnvironmentVariable(Variable);
        Skip.If(string.IsNullOrWhiteSpace(url), $"{Variable} is not set: no PostgreSQL to test against (start one with .ci/postgres.sh -- dotnet test …)");
        return url!;
    }

    /// <exception cref="SkipException">PostgreSQL was asked for and <see cref="Variable"/> is not set.</exception>
    public static TestDatabase Create(DatabaseProvider provider)
    {
        if (provider == DatabaseProvider.Sqlite)
        {
            return new TestDatabase(provider, null, null);
        }

        var cluster = ClusterUrl();
        var name = $"lq_test_{Guid.NewGuid():N}";
        Execute(cluster, $"CREATE DATABASE {name}");
        return new TestDatabase(provider, WithDatabase(cluster, name), name);
    }

    /// <summary>Runs <paramref name="sql"/> on this PostgreSQL database.</summary>
    public void Execute(string sql) => Execute(Url ?? throw new InvalidOperationException("Not a PostgreSQL database."), sql);

    /// <summary>Opens a connection to this PostgreSQL database.</summary>
    public NpgsqlConnection Open()
    {
        var connection = new NpgsqlConnection(ToConnectionString(Url ?? throw new InvalidOperationException("Not a PostgreSQL database.")));
        connection.Open();
        return connection;
    }

    public void Dispose()
    {
        if (_name is not null)
        {
            // FORCE: a server of the test that is still closing (or was killed) may hold connections.
            Execute(ClusterUrl(), $"DROP DATABASE IF EXISTS {_name} WITH (FORCE)");
        }
    }

    /// <summary>The cluster URL with another database name.</summary>
    public static string WithDatabase(string clusterUrl, string database)
    {
        ArgumentNullException.ThrowIfNull(clusterUrl);
        var uri = new UriBuilder(clusterUrl) { Path = "/" + database };
        return uri.Uri.ToString().TrimEnd('/');
    }

    /// <summary>A URL as the server reads it, as an Npgsql connection string.</summary>
    public static string ToConnectionString(string url) => 
        new NpgsqlConnectionStringBuilder(DatabaseUrl.Parse(url, "/").ConnectionString) { Pooling = false }.ConnectionString;

    private static void Execute(string url, string sql)
    {
        using var connection = new NpgsqlConnection(ToConnectionString(url));
        connection.Open();
        using var command = new NpgsqlCommand(sql, connection);
        command.ExecuteNonQuery();
    }
}
