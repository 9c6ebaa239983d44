using Microsoft.EntityFrameworkCore;

namespace LogQuota.Server.Data.Postgres;

/// <summary>
/// <see cref="ServerDbContext"/> on PostgreSQL. The model is the same; the type exists so that the PostgreSQL
/// migrations (<c>Data/Postgres/Migrations</c>, generated against this type) are found apart from the SQLite ones.
/// </summary>
public sealed class PostgresServerDbContext(DbContextOptions<PostgresServerDbContext> options) : ServerDbContext(options);
