using LogQuota.Runner.Execution;
using LogQuota.Runner.Isolation;

namespace LogQuota.Runner.Code;

/// <summary>A job's code on disk: its archive unpacked into its code directory, as the job's uid.</summary>
internal static class JobCode
{
    /// <summary>
    /// Makes <paramref name="directory"/> (0700, the job's uid's) and unpacks archive <paramref name="codeHash"/> into
    /// it as that uid: in one pass when the archive was checked at its put, else checked first. Throws
    /// <see cref="JobStartException"/> with the refusal for a bad archive, which ends the job executor_error, and
    /// <see cref="OperationCanceledException"/> when the job is stopped meanwhile.
    /// </summary>
    public static void Unpack(CodeArchives archives, string codeHash, string directory, JobSandbox sandbox, long maxUnpackedBytes, CancellationToken cancellationToken)
    {
        try
        {
            FileModes.CreateDirectory(directory, FileModes.Private);
            sandbox.Own(directory);
            var owner = sandbox.Uid is { } uid ? new FileOwner(uid, sandbox.User?.Gid ?? uid) : null;
            var isChecked = archives.WasChecked(codeHash, out var refusal);
            if (refusal is not null)
            {
                throw new CodeArchiveException(refusal);
            }

            using var archive = archives.OpenRead(codeHash);
            if (isChecked)
            {
                CodeUnpacker.Create(archive, directory, owner, maxUnpackedBytes, cancellationToken);
            }
            else
            {
                CodeUnpacker.Unpack(archive, directory, owner, maxUnpackedBytes, cancellationToken);
            }
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
