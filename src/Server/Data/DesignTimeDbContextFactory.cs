using LogQuota.Server.Data.Postgres;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace LogQuota.Server.Data;

/// <summary>Lets <c>dotnet ef migrations add</c> build the SQLite model without starting the server.</summary>
internal sealed class DesignTimeDbContextFactory : IDesignTimeDbContextFactory<ServerDbContext>
{
    public ServerDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<ServerDbContext>().UseSqlite("Data Source=design-time.db").Options);
}

/// <summary>The same for the PostgreSQL model (<c>--context PostgresServerDbContext</c>); nothing connects.</summary>
internal sealed class PostgresDesignTimeDbContextFactory : IDesignTimeDbContextFactory<PostgresServerDbContext>
{
    public PostgresServerDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<PostgresServerDbContext>().UseNpgsql("Host=localhost;Database=design_time").Options);
}
