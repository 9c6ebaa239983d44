namespace LogQuota.Shared.Hosting;

/// <summary>
/// A service's data directory is its own (SPEC §7): mode 0700 and the files at its top 0600, whatever existed before
/// (a <c>mkdir</c> with the default umask, a volume, systemd's <c>StateDirectory=</c> all give 0755). Otherwise a job
/// under another uid could read the database — other runs' output, commands and <c>env</c> values — straight from
/// the file. A directory that others may write is refused, not repaired: they may already have put something in it.
/// Only the top level is fixed: what lies deeper (a runner's job directories) has modes of its own.
/// </summary>
public static class PrivateDirectory
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode OwnerReadWrite = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode OthersWrite = UnixFileMode.GroupWrite | UnixFileMode.OtherWrite;
    private const UnixFileMode GroupAndOthers = (UnixFileMode)0b000_111_111;

    /// <summary>
    /// Makes <paramref name="dir"/> 0700, its top-level files 0600 and its top-level directories 0700.
    /// </summary>
    /// <returns>What was changed, in words, or null when everything was private already.</returns>
    /// <exception cref="IOException">The directory is writable by its group or by others (the message says how to fix it).</exception>
    public static string? Enforce(string dir)
    {
        if (OperatingSystem.IsWindows())
        {
            return null;
        }

        var mode = File.GetUnixFileMode(dir);
        if ((mode & OthersWrite) != 0)
        {
            throw new IOException(
                $"{dir} is writable by other users (mode {Octal(mode)}): anyone could have put files in it; use a new directory, or check its contents and chmod 700 it");
        }

        var changed = new List<string>();
        if ((mode & ~UnixFileMode.SetGroup) != OwnerOnly)
        {
            File.SetUnixFileMode(dir, OwnerOnly);
            changed.Add($"{dir} {Octal(mode)} -> 700");
        }

        foreach (var entry in new DirectoryInfo(dir).EnumerateFileSystemInfos())
        {
            if (entry.LinkTarget is not null || (entry.UnixFileMode & GroupAndOthers) == 0)
            {
                continue;
            }

            var wanted = entry is DirectoryInfo ? OwnerOnly : OwnerReadWrite;
            changed.Add($"{entry.Name} {Octal(entry.UnixFileMode)} -> {Octal(wanted)}");
            File.SetUnixFileMode(entry.FullName, wanted);
        }

        return changed.Count == 0 ? null : $"made private: {string.Join(", ", changed)}";
    }

    private static string Octal(UnixFileMode mode) => Convert.ToString((int)mode & 0b111_111_111_111, 8);
}
