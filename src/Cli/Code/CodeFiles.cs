using LogQuota.Cli.Connection;

namespace LogQuota.Cli.Code;

/// <summary>One file of the code to send.</summary>
/// <param name="Path">Relative to the code directory, segments separated by <c>/</c>.</param>
/// <param name="FullPath">Where it is on this machine.</param>
/// <param name="Size">Bytes of a regular file; 0 for a symbolic link.</param>
/// <param name="Executable">A regular file whose owner may execute it.</param>
/// <param name="LinkTarget">The target of a symbolic link, as stored in it; null for a regular file.</param>
public sealed record CodeFile(string Path, string FullPath, long Size, bool Executable, string? LinkTarget);

/// <summary>
/// Which files of a directory are the code of a run: inside a git work tree the files git would show
/// (<c>git ls-files -co --exclude-standard</c>: tracked and untracked-but-not-ignored); elsewhere every file
/// below it except what its <see cref="IgnoreRules.FileName"/> excludes, and never a <c>.git</c> directory.
/// </summary>
public static class CodeFiles
{
    /// <summary>Lists the files of <paramref name="directory"/>, sorted by path (ordinal), symbolic links as links.</summary>
    /// <exception cref="CliException">The directory does not exist, or git or a file cannot be read.</exception>
    public static async Task<CodeListing> ListAsync(string directory, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(directory);
        var root = Path.GetFullPath(directory);
        if (!Directory.Exists(root))
        {
            throw new CliException($"the code directory {root} does not exist (see --code)", CliException.UsageExitCode);
        }

        var fromGit = await GitWorkTree.ListFilesAsync(root, cancellationToken);
        var paths = fromGit ?? Walk(root, IgnoreRules.Load(root));
        var files = new List<CodeFile>();
        var leftOut = new List<string>();
        foreach (var path in paths)
        {
            if (Describe(root, path) is not { } file)
            {
                continue;
            }

            // The runner refuses an archive with a link leading out of the code directory (a dataset mounted at
            // /mnt/data, say), which would fail the whole job: such a link stays here, and the summary says so.
            if (file.LinkTarget is { } target && LeadsOutside(file.Path, target))
            {
                leftOut.Add(file.Path);
                continue;
            }

            files.Add(file);
        }

        files.Sort((a, b) => string.CompareOrdinal(a.Path, b.Path));
        leftOut.Sort(StringComparer.Ordinal);
        return new CodeListing(root, fromGit is not null, files, leftOut);
    }

    /// <summary>Whether a link at <paramref name="path"/> to <paramref name="target"/> points outside the tree: absolute, or up past its top.</summary>
    public static bool LeadsOutside(string path, string target)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(target);
        if (target.StartsWith('/'))
        {
            return true;
        }

        var depth = path.Count(c => c == '/');
        foreach (var segment in target.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            depth += segment switch
            {
                ".." => -1,
                "." => 0,
                _ => 1,
            };
            if (depth < 0)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The file at <paramref name="relativePath"/>, or null when it is not there (a tracked file deleted in the work tree) or is no file or link.</summary>
    private static CodeFile? Describe(string root, string relativePath)
    {
        var fullPath = Path.Combine(root, relativePath);
        var info = new FileInfo(fullPath);
        try
        {
            if (!info.Exists && info.LinkTarget is null)
            {
                return null;
            }

            if (info.LinkTarget is { } target)
            {
                return new CodeFile(relativePath, fullPath, 0, false, target);
            }

            // Exists is false for a directory (a git submodule), which is skipped above. A fifo or socket is no code.
            if (info.Length == 0 && !IsEmptyRegularFile(fullPath))
            {
                return null;
            }

            return new CodeFile(relativePath, fullPath, info.Length, (info.UnixFileMode & UnixFileMode.UserExecute) != 0, null);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"cannot read {fullPath}: {e.Message}", e);
        }
    }

    /// <summary>
    /// Whether an entry of size 0 is a regular file rather than a fifo, socket or device, which .NET reports as files
    /// too and which must never be opened (reading a fifo waits for a writer). TarWriter reads the entry's type with
    /// lstat and opens only regular files, so one written into memory tells which it is without opening it.
    /// </summary>
    private static bool IsEmptyRegularFile(string fullPath)
    {
        using var buffer = new MemoryStream();
        try
        {
            using (var writer = new System.Formats.Tar.TarWriter(buffer, leaveOpen: true))
            {
                writer.WriteEntry(fullPath, "probe");
            }
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or NotSupportedException)
        {
            return false;
        }

        buffer.Position = 0;
        using var reader = new System.Formats.Tar.TarReader(buffer);
        return reader.GetNextEntry()?.EntryType is System.Formats.Tar.TarEntryType.RegularFile or System.Formats.Tar.TarEntryType.V7RegularFile;
    }

    /// <summary>Every file and link below <paramref name="root"/> that <paramref name="rules"/> keeps; not into ignored directories or <c>.git</c>.</summary>
    private static IEnumerable<string> Walk(string root, IgnoreRules rules)
    {
        var pending = new Stack<string>();
        pending.Push("");
        while (pending.Count > 0)
        {
            var relativeDir = pending.Pop();
            IEnumerable<FileSystemInfo> entries;
            try
            {
                entries = new DirectoryInfo(Path.Combine(root, relativeDir)).EnumerateFileSystemInfos().ToList();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new CliException($"cannot read the directory {Path.Combine(root, relativeDir)}: {e.Message}", e);
            }

            foreach (var entry in entries)
            {
                var relative = relativeDir.Length == 0 ? entry.Name : relativeDir + "/" + entry.Name;
                var isDirectory = entry is DirectoryInfo && entry.LinkTarget is null;
                if ((isDirectory && entry.Name == ".git") || rules.IsIgnored(relative, isDirectory))
                {
                    continue;
                }

                if (isDirectory)
                {
                    pending.Push(relative);
                }
                else
                {
                    yield return relative;
                }
            }
        }
    }
}

/// <summary>The files to send and where they came from.</summary>
/// <param name="Root">The code directory, absolute.</param>
/// <param name="FromGit">True when git chose the files; false when the directory was walked with its ignore file.</param>
/// <param name="Files">Sorted by path.</param>
/// <param name="LinksLeftOut">Symbolic links not sent because they lead outside the directory, sorted by path.</param>
public sealed record CodeListing(string Root, bool FromGit, IReadOnlyList<CodeFile> Files, IReadOnlyList<string> LinksLeftOut);
