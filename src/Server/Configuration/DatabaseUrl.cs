using Microsoft.Data.Sqlite;
using Npgsql;

namespace LogQuota.Server.Configuration;

/// <summary>The database engine behind <c>DSTACK_DATABASE_URL</c>.</summary>
public enum DatabaseProvider
{
    /// <summary>An embedded SQLite file: one server process.</summary>
    Sqlite,

    /// <summary>A PostgreSQL server: any number of server replicas on one database (SPEC §6).</summary>
    Postgres,
}

/// <summary>
/// Parses <c>DSTACK_DATABASE_URL</c> (SPEC §4): <c>sqlite:///abs/path.db</c>, a SQLite <c>Data Source=</c> string, or
/// <c>postgresql://user:password@host:port/db</c> (also <c>postgres://</c>, as libpq and SQLAlchemy take them).
/// </summary>
public static class DatabaseUrl
{
    /// <summary>The libpq query parameters a PostgreSQL URL may carry, and the Npgsql keyword each becomes.</summary>
    private static readonly Dictionary<string, string> PostgresParameters = new(StringComparer.OrdinalIgnoreCase)
    {
        ["sslmode"] = "SSL Mode",
        ["connect_timeout"] = "Timeout",
        ["application_name"] = "Application Name",
    };

    /// <summary>The provider and its connection string; a bad URL throws <see cref="SettingsException"/> naming the variable.</summary>
    /// <param name="url">The variable's value; null when unset.</param>
    /// <param name="dir">The server directory, where the default SQLite file lives.</param>
    public static (DatabaseProvider Provider, string ConnectionString) Parse(string? url, string dir)
    {
        if (url is null)
        {
            return (DatabaseProvider.Sqlite, Sqlite(Path.Combine(dir, "server.db")));
        }

        if (url.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase) || url.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase))
        {
            return (DatabaseProvider.Postgres, Postgres(url));
        }

        string path;
        if (url.StartsWith("sqlite:", StringComparison.OrdinalIgnoreCase))
        {
            // sqlite:///abs/path.db (as SQLAlchemy and dstack spell it) and sqlite:relative.db.
            path = url["sqlite:".Length..];
            path = path.StartsWith("//", StringComparison.Ordinal) ? path[2..] : path;
        }
        else if (url.Contains("data source=", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                path = new SqliteConnectionStringBuilder(url).DataSource;
            }
            catch (ArgumentException)
            {
                throw Bad(url, "is not a valid SQLite connection string");
            }
        }
        else
        {
            throw Bad(url, "must be a SQLite URL such as sqlite:///var/lib/logquota/server.db or a PostgreSQL URL such as postgresql://user:password@host:5432/logquota");
        }

        if (string.IsNullOrWhiteSpace(path) || path.Contains('\0', StringComparison.Ordinal))
        {
            throw Bad(url, "names no database file");
        }

        return (DatabaseProvider.Sqlite, Sqlite(path));
    }

    /// <summary>The URL with its password replaced by <c>***</c>: what a message may show.</summary>
    public static string Redact(string url)
    {
        ArgumentNullException.ThrowIfNull(url);
        var scheme = url.IndexOf("://", StringComparison.Ordinal);
        var at = url.LastIndexOf('@');
        if (scheme < 0 || at < scheme)
        {
            return url;
        }

        var colon = url.IndexOf(':', scheme + 3);
        return colon < 0 || colon > at ? url : url[..(colon + 1)] + "***" + url[at..];
    }

    private static string Sqlite(string path) =>
        // Cache=Shared would serialize everything on one connection; a private cache per pooled connection
        // plus WAL (set when migrating) lets readers and the single writer work side by side.
        new SqliteConnectionStringBuilder
        {
            DataSource = Path.GetFullPath(path),
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();

    private static string Postgres(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || string.IsNullOrEmpty(uri.Host) || !string.IsNullOrEmpty(uri.Fragment))
        {
            throw Bad(url, "is not a valid PostgreSQL URL; the form is postgresql://user:password@host:5432/database");
        }

        var userInfo = uri.UserInfo.Split(':', 2);
        var user = Uri.UnescapeDataString(userInfo[0]);
        var database = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/'));
        if (user.Length == 0)
        {
            throw Bad(url, "names no user; the form is postgresql://user:password@host:5432/database");
        }

        if (database.Length == 0 || database.Contains('/', StringComparison.Ordinal))
        {
            throw Bad(url, "names no database; the form is postgresql://user:password@host:5432/database");
        }

        var builder = new NpgsqlConnectionStringBuilder
        {
            Host = uri.Host.Trim('[', ']'),
            Port = uri.IsDefaultPort || uri.Port < 0 ? 5432 : uri.Port,
            Username = user,
            Password = userInfo.Length > 1 ? Uri.UnescapeDataString(userInfo[1]) : null,
            Database = database,
            ApplicationName = "logquota-server",
            Pooling = true,
        };
        foreach (var pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var (key, value) = pair.IndexOf('=', StringComparison.Ordinal) is var eq and > 0
                ? (Uri.UnescapeDataString(pair[..eq]), Uri.UnescapeDataString(pair[(eq + 1)..]))
                : (pair, "");
            if (!PostgresParameters.TryGetValue(key, out var keyword))
            {
                throw Bad(url, $"has the parameter '{key}', which is not supported (only {string.Join(", ", PostgresParameters.Keys)})");
            }

            try
            {
                builder[keyword] = value;
            }
            catch (Exception e) when (e is ArgumentException or FormatException)
            {
                throw Bad(url, $"has a bad value for '{key}' ({value})");
            }
        }

        return builder.ConnectionString;
    }

    private static SettingsException Bad(string url, string rule) =>
        new($"{ServerSettingsLoader.DatabaseUrlVariable}={Redact(url)} is invalid: it {rule}.");
}
