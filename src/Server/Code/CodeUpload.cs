using System.Security.Cryptography;
using LogQuota.Runner.Code;

namespace LogQuota.Server.Code;

/// <summary>
/// An upload's body on its way in: streamed to a temporary file (0600, in the server directory, deleted when closed)
/// while it is hashed, counted and checked (<see cref="CodeArchiveCheck"/>, at the same time, on another thread), so
/// a 128 MiB archive never sits in memory, a body past the limit is cut off at the limit, and the check costs no
/// second read.
/// </summary>
internal sealed class CodeUpload : IAsyncDisposable
{
    /// <summary>Where uploads wait while they are checked; emptied at start-up (a killed server leaves its files).</summary>
    public const string DirectoryName = "code-uploads";

    private CodeUpload(FileStream file, string sha256, long size, string? problem)
    {
        File = file;
        Sha256 = sha256;
        Size = size;
        Problem = problem;
    }

    /// <summary>The body, positioned at its start.</summary>
    public FileStream File { get; }

    /// <summary>The lowercase hex SHA-256 of the body as received.</summary>
    public string Sha256 { get; }

    public long Size { get; }

    /// <summary>Why the body is not a gzip'd tar, or null when it is.</summary>
    public string? Problem { get; }

    /// <summary>Reads <paramref name="body"/> to its end; null when it grew past <paramref name="limit"/> bytes (reading stops there).</summary>
    public static async Task<CodeUpload?> ReceiveAsync(Stream body, string serverDir, long limit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(body);
        var file = Create(serverDir);
        try
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            await using var check = new StreamingCheck<string?>(CodeArchiveCheck.ProblemAsync, cancellationToken);
            var buffer = new byte[81_920];
            long size = 0;
            int read;
            while ((read = await body.ReadAsync(buffer, cancellationToken)) > 0)
            {
                size += read;
                if (size > limit)
                {
                    await file.DisposeAsync();
                    return null;
                }

                hash.AppendData(buffer, 0, read);
                await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                await check.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
            }

            await file.FlushAsync(cancellationToken);
            file.Position = 0;
            return new CodeUpload(file, Convert.ToHexStringLower(hash.GetHashAndReset()), size, await check.CompleteAsync());
        }
        catch
        {
            await file.DisposeAsync();
            throw;
        }
    }

    /// <summary>Deletes what killed processes left in the upload directory of <paramref name="serverDir"/>.</summary>
    public static void Sweep(string serverDir)
    {
        var dir = Path.Combine(serverDir, DirectoryName);
        if (Directory.Exists(dir))
        {
            foreach (var file in Directory.EnumerateFiles(dir))
            {
                System.IO.File.Delete(file);
            }
        }
    }

    public ValueTask DisposeAsync() => File.DisposeAsync();

    private static FileStream Create(string serverDir)
    {
        var dir = Path.Combine(serverDir, DirectoryName);
        Configuration.AdminTokenFile.CreateDirectory(dir);
        var options = new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.ReadWrite,
            Share = FileShare.None,
            Options = FileOptions.DeleteOnClose | FileOptions.Asynchronous,
        };
        if (!OperatingSystem.IsWindows())
        {
            // Someone's code: readable by the server's user alone from the first byte.
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        return new FileStream(Path.Combine(dir, Guid.NewGuid().ToString("N") + ".tar.gz"), options);
    }
}
