using Npgsql;

namespace LogQuota.EndToEnd.Tests.Replicas;

/// <summary>
/// A fresh PostgreSQL database on the cluster <c>LOGQUOTA_TEST_POSTGRES</c> names (.ci/postgres.sh), dropped on
/// dispose; without the variable the test skips with the reason.
/// </summary>
public sealed class PostgresTestDatabase : IDisposable
{
    private readonly string _cluster;
    private readonly string _name = $"lq_e2e_{Guid.NewGuid():N}";

    public PostgresTestDatabase()
    {
        var cluster = Environment.GetEnvironmentVariable("LOGQUOTA_TEST_POSTGRES");
        Skip.If(string.IsNullOrWhiteSpace(cluster), "LOGQUOTA_TEST_POSTGRES is not set: no PostgreSQL to test against (start one with .ci/postgres.sh -- dotnet test …)");
        _cluster = cluster!;
        Execute(ConnectionString(_cluster), $"CREATE DATABASE {_name}");
        Url = new UriBuilder(_cluster) { Path = "/" + _name }.Uri.ToString().TrimEnd('/');
    }

    /// <summary>The database's <c>DSTACK_DATABASE_URL</c>.</summary>
    public string Url { get; }

    /// <summary>The rows of <paramref name="sql"/>, each as its columns' values.</summary>
    public async Task<List<object[]>> QueryAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString(Url));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<object[]>();
        while (await reader.ReadAsync())
        {
            var row = new object[reader.FieldCount];
            reader.GetValues(row);
            rows.Add(row);
        }

        return rows;
    }

    public void Dispose() => Execute(ConnectionString(_cluster), $"DROP DATABASE IF EXISTS {_name} WITH (FORCE)");

    private static string ConnectionString(string url)
    {
        var uri = new Uri(url);
        var user = uri.UserInfo.Split(':', 2);
        return new NpgsqlConnectionStringBuilder
        {
            Host = uri.Host,
            Port = uri.Port > 0 ? uri.Port : 5432,
            Username = Uri.UnescapeDataString(user[0]),
            Password = user.Length > 1 ? Uri.UnescapeDataString(user[1]) : null,
            Database = uri.AbsolutePath.TrimStart('/'),
            Pooling = false,
        }.ConnectionString;
    }

    private static void Execute(string connectionString, string sql)
    {
        using var connection = new NpgsqlConnection(connectionString);
        connection.Open();
        using var command = new NpgsqlCommand(sql, connection);
        command.ExecuteNonQuery();
    }
}
