using System.Buffers;
using System.Security.Cryptography;
using LogQuota.Runner.Isolation;
using LogQuota.Shared.Contracts;

namespace LogQuota.Runner.Code;

/// <summary>
/// The code archives this runner holds (SPEC §9): <c>&lt;DSTACK_RUNNER_DIR&gt;/code/&lt;sha256&gt;.tar.gz</c>, 0600 in a 0700
/// directory, each named by the SHA-256 of its bytes. An archive is stored only once its bytes hash to its name,
/// and is deleted once no held job names it (<see cref="Sweep"/>). Each is checked once, when it is put
/// (<see cref="CodeUnpacker.Check"/>): every job that names it then unpacks it in one pass, and a refused one fails its
/// jobs with the refusal before anything is created.
/// </summary>
internal sealed class CodeArchives
{
    /// <summary>
    /// How long an archive no job names yet is kept after a PUT stored it or a HEAD found it: the server submits the job
    /// right after, and a sweep in between (another job's delete) must not take the archive from under it. Ten
    /// minutes outlast the server's retries of a submit many times over. The submit that names it ends this period
    /// (<see cref="Claim"/>): from then on the job holds it.
    /// </summary>
    public static readonly TimeSpan KeepAfterUse = TimeSpan.FromMinutes(10);

    private const string Suffix = ".tar.gz";

    private readonly string _directory;
    private readonly TimeProvider _time;
    private readonly long _maxUnpackedBytes;

    /// <summary>Guards <see cref="_used"/> and makes a found archive and a sweep's delete of it exclusive.</summary>
    private readonly Lock _lock = new();
    private readonly Dictionary<string, long> _used = new(StringComparer.Ordinal);

    /// <summary>What the check at the put said of each archive held: null when it was accepted, else the refusal.</summary>
    private readonly Dictionary<string, string?> _refusals = new(StringComparer.Ordinal);

    /// <param name="directory">Where the archives are kept.</param>
    /// <param name="time">The clock of <see cref="KeepAfterUse"/>.</param>
    /// <param name="maxUnpackedBytes">The unpack limit archives are checked against (<c>DSTACK_RUNNER_CODE_MAX_UNPACKED</c>).</param>
    public CodeArchives(string directory, TimeProvider time, long maxUnpackedBytes)
    {
        _directory = directory;
        _time = time;
        _maxUnpackedBytes = maxUnpackedBytes;
        FileModes.CreateDirectory(directory, FileModes.Private);
    }

    /// <summary>True when the archive is here; it is then kept for <see cref="KeepAfterUse"/> even if no job names it.</summary>
    public bool Holds(string sha256)
    {
        lock (_lock)
        {
            if (!File.Exists(PathOf(sha256)))
            {
                return false;
            }

            _used[sha256] = _time.GetTimestamp();
            return true;
        }
    }

    /// <summary>True when the archive is here, for a job that names it: the job holds it from now on, in place of <see cref="KeepAfterUse"/>.</summary>
    public bool Claim(string sha256)
    {
        lock (_lock)
        {
            _used.Remove(sha256);
            return File.Exists(PathOf(sha256));
        }
    }

    /// <summary>
    /// True when the archive was checked at its put: <paramref name="refusal"/> is then null when it was accepted, else
    /// why it was refused. False for an archive this process did not put, which its unpack checks itself.
    /// </summary>
    public bool WasChecked(string sha256, out string? refusal)
    {
        lock (_lock)
        {
            return _refusals.TryGetValue(sha256, out refusal);
        }
    }

    /// <summary>Opens a held archive for reading (as the runner: the job's uid cannot read it).</summary>
    public FileStream OpenRead(string sha256) =>
        new(PathOf(sha256), FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 64 * 1024);

    /// <summary>
    /// Stores <paramref name="body"/> as archive <paramref name="sha256"/>: written to a temporary file while hashed, and
    /// renamed into place only when the hash is its name, and checked (<see cref="CodeUnpacker.Check"/>) while it comes in. True
    /// when it was stored, false when it was here already. Throws <see cref="CodeArchiveException"/> for a body that is
    /// not gzip or whose hash differs. An archive the check refuses is stored all the same: the jobs that name it fail
    /// with the refusal, which names the entry (<see cref="WasChecked"/>).
    /// </summary>
    public async Task<bool> PutAsync(string sha256, Stream body, CancellationToken cancellationToken)
    {
        var temporary = Path.Combine(_directory, $".{sha256}.{Guid.NewGuid():N}.part");
        var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var head = new byte[2];
            long length = 0;
            await using var check = new StreamingCheck<string?>((archive, token) => Task.FromResult(Refusal(archive, token)), cancellationToken);
            await using (var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 0, useAsync: true))
            {
                FileModes.Set(file.SafeFileHandle, FileModes.PrivateFile); // in the 0700 directory, so never readable by others meanwhile

                int read;
                while ((read = await body.ReadAsync(buffer, cancellationToken)) > 0)
                {
                    for (var i = 0; i < read && length + i < head.Length; i++)
                    {
                        head[length + i] = buffer[i];
                    }

                    hash.AppendData(buffer, 0, read);
                    await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                    await check.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                    length += read;
                }
            }

            var actual = Convert.ToHexStringLower(hash.GetHashAndReset());
            if (actual != sha256)
            {
                throw new CodeArchiveException($"The body's SHA-256 is {actual}, not the {sha256} the URL names.");
            }

            // The two bytes every gzip member starts with (RFC 1952); the tar inside is what the check reads, entry by entry.
            if (length < 2 || head[0] != 0x1f || head[1] != 0x8b)
            {
                throw new CodeArchiveException("The body is not gzip-compressed: a code archive is a gzip'd tar (application/gzip).");
            }

            var refusal = await check.CompleteAsync();
            lock (_lock)
            {
                _used[sha256] = _time.GetTimestamp();
                if (File.Exists(PathOf(sha256)))
                {
                    return false;
                }

                File.Move(temporary, PathOf(sha256));
                _refusals[sha256] = refusal;
                return true;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            File.Delete(temporary);
        }
    }

    /// <summary>
    /// Deletes every archive that <paramref name="referenced"/> does not hold and that was not used within
    /// <see cref="KeepAfterUse"/>. At start-up (<paramref name="startup"/>) no job is held yet: everything goes, the
    /// temporary files of uploads an earlier process did not finish too. Returns how many files were deleted.
    /// </summary>
    public int Sweep(IReadOnlySet<string> referenced, bool startup = false)
    {
        var deleted = 0;
        lock (_lock)
        {
            foreach (var path in Directory.EnumerateFiles(_directory))
            {
                var name = Path.GetFileName(path);
                var sha256 = name.EndsWith(Suffix, StringComparison.Ordinal) ? name[..^Suffix.Length] : null;
                if (!JobSpecRules.IsValidCodeHash(sha256))
                {
                    // A temporary file: an upload in flight now, or a leftover at start-up.
                    if (startup && TryDelete(path))
                    {
                        deleted++;
                    }

                    continue;
                }

                if (referenced.Contains(sha256!)
                    || (_used.TryGetValue(sha256!, out var used) && _time.GetElapsedTime(used) < KeepAfterUse))
                {
                    continue;
                }

                _used.Remove(sha256!);
                if (TryDelete(path))
                {
                    _refusals.Remove(sha256!);
                    deleted++;
                }
            }
        }

        return deleted;
    }

    private string PathOf(string sha256) => Path.Combine(_directory, sha256 + Suffix);

    /// <summary>Null when <paramref name="archive"/> passes the check, else the refusal naming the entry.</summary>
    private string? Refusal(Stream archive, CancellationToken cancellationToken)
    {
        try
        {
            CodeUnpacker.Check(archive, _maxUnpackedBytes, cancellationToken);
            return null;
        }
        catch (CodeArchiveException e)
        {
            return e.Message;
        }
    }

    private static bool TryDelete(string path)
    {
        try
        {
            File.Delete(path);
            return true;
        }
        catch (IOException)
        {
            return false; // tried again at the next sweep
        }
    }
}
