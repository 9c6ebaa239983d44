using System.Security.Cryptography;

namespace LogQuota.Server.Configuration;

/// <summary>The admin token kept in the server directory when <c>DSTACK_SERVER_ADMIN_TOKEN</c> is unset.</summary>
public static class AdminTokenFile
{
    /// <summary>The file name inside the server directory; the CLI reads it to talk to a local server.</summary>
    public const string FileName = "admin-token";

    /// <summary>Returns the stored token, creating it (mode 0600) at first start; prints it either way.</summary>
    public static string ReadOrCreate(string dir, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(output);
        var path = Path.Combine(dir, FileName);
        try
        {
            CreateDirectory(dir);
            string token;
            if (File.Exists(path))
            {
                token = File.ReadAllText(path).Trim();
                if (token.Length == 0)
                {
                    throw new SettingsException($"{path} is empty: delete it to have a new admin token generated, or set DSTACK_SERVER_ADMIN_TOKEN.");
                }
            }
            else
            {
                token = NewToken();
                Write(path, token);
            }

            output.WriteLine($"The admin token is {token} (stored in {path})");
            return token;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SettingsException($"DSTACK_SERVER_DIR={dir} is unusable: {e.Message}", e);
        }
    }

    /// <summary>Creates <paramref name="dir"/> readable only by its owner (it holds the token and the database).</summary>
    public static void CreateDirectory(string dir)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(dir);
        }
        else
        {
            Directory.CreateDirectory(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    /// <summary>A fresh random token: 32 bytes, URL-safe base64.</summary>
    public static string NewToken() =>
        Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static void Write(string path, string token)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            // Created with 0600 from the first byte: there is no moment when another user could read it.
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using var writer = new StreamWriter(path, System.Text.Encoding.ASCII, options);
        writer.Write(token + "\n");
    }
}
