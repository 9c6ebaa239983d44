using LogQuota.Runner.Execution;
using LogQuota.Runner.Isolation;

namespace LogQuota.Runner.Code;

/// <summary>A job's code on disk: its archive unpacked into its code directory, as the job's uid.</summary>
internal static class JobCode
{
    /// <summary>
    /// Makes <paramref name="directory"/> (0700, the job's uid's) and unpacks archive <paramref name="codeHash"/> into
    /// it as that uid. Throws <see cref="JobStartException"/> with the refusal for a bad archive, which ends the job
    /// executor_error, and <see cref="OperationCanceledException"/> when the job is stopped meanwhile.
    /// </summary>
    public static void Unpack(CodeArchives archives, string codeHash, string directory, JobSandbox sandbox, long maxUnpackedBytes, CancellationToken cancellationToken)
    {
        try
        {
            FileModes.CreateDirectory(directory, FileModes.Private);
            sandbox.Own(directory);
            using var archive = archives.OpenRead(codeHash);
            var owner = sandbox.Uid is { } uid ? new FileOwner(uid, sandbox.User?.Gid ?? uid) : null;
            CodeUnpacker.Unpack(archive, directory, owner, maxUnpackedBytes, cancellationToken);
        }
        catch (CodeArchiveException e)
        {
            throw new JobStartException(e.Message);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new JobStartException($"Cannot unpack the job's code: {e.Message}");
        }
    }
}
