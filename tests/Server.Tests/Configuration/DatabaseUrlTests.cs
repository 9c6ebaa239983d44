using LogQuota.Server.Configuration;
using Npgsql;

namespace LogQuota.Server.Tests.Configuration;

public sealed class DatabaseUrlTests
{
    [Theory]
    [InlineData("postgresql://lq:s%40cret@db.example:6543/logquota?sslmode=require", "db.example", 6543, "s@cret")]
    [InlineData("postgres://lq:pw@10.0.0.5/logquota", "10.0.0.5", 5432, "pw")]
    [InlineData("postgresql://lq:pw@[::1]:5433/logquota", "::1", 5433, "pw")]
    public void PostgresUrl_BecomesAnNpgsqlConnectionString(string url, string host, int port, string password)
    {
        var (provider, connectionString) = DatabaseUrl.Parse(url, "/srv");

        Assert.Equal(DatabaseProvider.Postgres, provider);
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        Assert.Equal(host, builder.Host);
        Assert.Equal(port, builder.Port);
        Assert.Equal("lq", builder.Username);
        Assert.Equal(password, builder.Password);
        Assert.Equal("logquota", builder.Database);
    }

    [Theory]
    [InlineData("postgresql://lq:hunter2hunter2@db/", "names no database")]
    [InlineData("postgresql://db/logquota", "names no user")]
    [InlineData("postgresql://lq:hunter2hunter2@db/logquota?pool=9", "'pool'")]
    [InlineData("postgresql://lq:hunter2hunter2@db/logquota?sslmode=sometimes", "'sslmode'")]
    [InlineData("mysql://lq:hunter2hunter2@db/logquota", "postgresql://user:password@host:5432/logquota")]
    public void BadUrl_IsOneLine_NamingTheVariableAndTheRule_WithoutThePassword(string url, string rule)
    {
        var e = Assert.Throws<SettingsException>(() => DatabaseUrl.Parse(url, "/srv"));

        Assert.StartsWith("DSTACK_DATABASE_URL=", e.Message, StringComparison.Ordinal);
        Assert.Contains(rule, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void Unset_IsSqliteInTheServerDirectory()
    {
        var (provider, connectionString) = DatabaseUrl.Parse(null, "/srv/logquota");

        Assert.Equal(DatabaseProvider.Sqlite, provider);
        Assert.Contains("/srv/logquota/server.db", connectionString, StringComparison.Ordinal);
    }
}
