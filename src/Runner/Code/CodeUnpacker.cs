using System.Buffers;
using System.Formats.Tar;
using System.IO.Compression;

namespace LogQuota.Runner.Code;

/// <summary>
/// Unpacks a code archive (a gzip'd tar, SPEC §9) into a job's code directory. The archive is hostile input: every
/// entry is checked against <see cref="CodePaths"/> and created by <see cref="CodeTree"/>, which never follows a
/// link, and the first entry that breaks a rule ends the unpack with a <see cref="CodeArchiveException"/> naming it.
/// What was unpacked before stays in the code directory for the job's cleanup; nothing is ever created outside it.
/// </summary>
internal static class CodeUnpacker
{
    /// <summary>
    /// Most entries of one archive: 100,000. A large repository (the Linux kernel) has about 90,000 files; each entry
    /// costs a few system calls and a little memory for the names, so this bounds an archive of empty files.
    /// </summary>
    public const int MaxEntries = 100_000;

    /// <summary>Bytes per read and write: large enough for few system calls, small enough to stay off the large object heap.</summary>
    private const int ChunkBytes = 64 * 1024;

    private static readonly Lazy<byte[]> s_smallArchive = new(SmallArchive);

    /// <summary>
    /// Unpacks <paramref name="archive"/> (seekable) into the existing directory <paramref name="directory"/>, as
    /// <paramref name="owner"/> (see <see cref="FileOwner.Run"/>) or, when null, as the runner. At most
    /// <paramref name="maxUnpackedBytes"/> of file contents. Throws <see cref="CodeArchiveException"/> for a refused
    /// or corrupt archive and <see cref="OperationCanceledException"/> once <paramref name="cancellationToken"/> is
    /// cancelled.
    /// </summary>
    /// <remarks>
    /// <see cref="Check"/>, then <see cref="Create"/>: every rule that needs no file system is checked before the first
    /// file exists, so an archive of a million empty files or a gzip bomb is refused with nothing created.
    /// </remarks>
    public static void Unpack(Stream archive, string directory, FileOwner? owner, long maxUnpackedBytes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(archive);
        var start = archive.Position;
        Check(archive, maxUnpackedBytes, cancellationToken);
        archive.Position = start;
        Create(archive, directory, owner, maxUnpackedBytes, cancellationToken);
    }

    /// <summary>
    /// Reads the whole archive and creates nothing: checks every rule that needs no file system (names, entry types,
    /// symlink targets, the entry count, the bytes of every file, counted as they are read). Throws
    /// <see cref="CodeArchiveException"/> naming the first entry that breaks one. The runner checks each archive once,
    /// when it is put (<see cref="CodeArchives"/>), so that a job's unpack is one pass.
    /// </summary>
    public static void Check(Stream archive, long maxUnpackedBytes, CancellationToken cancellationToken) =>
        Pass(archive, null, maxUnpackedBytes, cancellationToken);

    /// <summary>
    /// The unpack of an archive <see cref="Check"/> accepted with the same <paramref name="maxUnpackedBytes"/>: one pass
    /// that creates every entry, checking every rule again together with what only the tree can tell (a name given
    /// twice, a path through a symlink, a hard link's target). Were the archive not checked, a refusal would leave the
    /// entries before the refused one in <paramref name="directory"/>, never anything outside it.
    /// </summary>
    public static void Create(Stream archive, string directory, FileOwner? owner, long maxUnpackedBytes, CancellationToken cancellationToken)
    {
        // Opened as the runner: the owner needs no way through the directories above its code directory.
        using var tree = CodeTree.Open(directory);
        if (owner is null)
        {
            Pass(archive, tree, maxUnpackedBytes, cancellationToken);
        }
        else
        {
            // Loaded as the runner, before the thread becomes the owner, who may not be able to read the runner's installation.
            LoadDependencies();
            owner.Run(() => Pass(archive, tree, maxUnpackedBytes, cancellationToken));
        }
    }

    /// <summary>Loads what an unpack needs from disk (the tar and gzip assemblies, the native zlib) by reading a small archive in memory.</summary>
    public static void LoadDependencies()
    {
        using var archive = new MemoryStream(s_smallArchive.Value);
        Pass(archive, null, long.MaxValue, CancellationToken.None);
    }

    /// <summary>One pass over the archive: checks every entry, and creates it in <paramref name="tree"/> unless that is null.</summary>
    private static void Pass(Stream archive, CodeTree? tree, long maxUnpackedBytes, CancellationToken cancellationToken)
    {
        using var gzip = new GZipStream(archive, CompressionMode.Decompress, leaveOpen: true);
        using var reader = new TarReader(gzip, leaveOpen: true);
        var buffer = ArrayPool<byte>.Shared.Rent(ChunkBytes);
        try
        {
            var entries = 0;
            long unpacked = 0;
            string? previous = null;
            while (Next(reader, previous) is { } entry)
            {
                cancellationToken.ThrowIfCancellationRequested();
                previous = entry.Name;
                if (entry.EntryType == TarEntryType.GlobalExtendedAttributes)
                {
                    continue; // metadata for the entries that follow; nothing to create
                }

                if (++entries > MaxEntries)
                {
                    throw CodePaths.Refuse(entry.Name, $"is one more than the {MaxEntries} entries a code archive may hold");
                }

                var parts = CodePaths.Inside(entry.Name);
                var mode = (uint)entry.Mode & 0b111_111_111; // no setuid, setgid or sticky bit
                switch (entry.EntryType)
                {
                    case TarEntryType.Directory:
                        tree?.CreateDirectory(entry.Name, parts, mode);
                        break;
                    case TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile:
                        unpacked = CopyFile(entry, tree, parts, mode, buffer, unpacked, maxUnpackedBytes, cancellationToken);
                        break;
                    case TarEntryType.SymbolicLink:
                        CodePaths.CheckSymlinkTarget(entry.Name, parts, entry.LinkName);
                        tree?.CreateSymlink(entry.Name, parts, entry.LinkName);
                        break;
                    case TarEntryType.HardLink:
                        var target = CodePaths.HardLinkTarget(entry.Name, entry.LinkName);
                        tree?.CreateHardLink(entry.Name, parts, entry.LinkName, target);
                        break;
                    default:
                        throw CodePaths.Refuse(entry.Name, $"is {Kind(entry.EntryType)}; a code archive holds only files, directories and links");
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Reads one file's bytes, counting them against the limit as they come, and writes them into <paramref name="tree"/>
    /// unless that is null; returns the new total.
    /// </summary>
    private static long CopyFile(TarEntry entry, CodeTree? tree, string[] parts, uint mode, byte[] buffer, long unpacked, long max, CancellationToken cancellationToken)
    {
        // The header's size refuses a bomb before its first byte; the count below holds whatever the header says.
        if (entry.Length > max - unpacked)
        {
            throw TooLarge(entry.Name, max);
        }

        using var file = tree?.CreateFile(entry.Name, parts, mode);
        long copied = 0;
        if (entry.DataStream is { } data)
        {
            while (Read(data, buffer, entry.Name) is var read and > 0)
            {
                if (read > max - unpacked - copied)
                {
                    throw TooLarge(entry.Name, max);
                }

                try
                {
                    if (file is not null)
                    {
                        RandomAccess.Write(file, buffer.AsSpan(0, read), copied);
                    }
                }
                catch (IOException e)
                {
                    throw CodePaths.Refuse(entry.Name, $"cannot be written: {e.Message}");
                }

                copied += read;
                cancellationToken.ThrowIfCancellationRequested();
            }
        }

        return copied == entry.Length
            ? unpacked + copied
            : throw CodePaths.Refuse(entry.Name, $"is cut short: the archive ends after {copied} of its {entry.Length} bytes");
    }

    private static CodeArchiveException TooLarge(string name, long max) =>
        CodePaths.Refuse(name, $"takes the unpacked code past the limit of {max} bytes (DSTACK_RUNNER_CODE_MAX_UNPACKED)");

    private static TarEntry? Next(TarReader reader, string? previous)
    {
        try
        {
            return reader.GetNextEntry();
        }
        catch (Exception e) when (IsCorrupt(e))
        {
            throw new CodeArchiveException(previous is null
                ? $"code archive is not a valid gzip'd tar: {e.Message}"
                : $"code archive is not a valid gzip'd tar after entry {CodePaths.Quote(previous)}: {e.Message}");
        }
    }

    private static int Read(Stream data, byte[] buffer, string name)
    {
        try
        {
            return data.Read(buffer, 0, buffer.Length);
        }
        catch (Exception e) when (IsCorrupt(e))
        {
            throw CodePaths.Refuse(name, $"is corrupt: {e.Message}");
        }
    }

    /// <summary>What the gzip and tar readers throw for bytes that are not what they claim to be.</summary>
    private static bool IsCorrupt(Exception e) =>
        e is InvalidDataException or FormatException or EndOfStreamException or ArgumentException or OverflowException or NotSupportedException;

    private static string Kind(TarEntryType type) => type switch
    {
        TarEntryType.Fifo => "a fifo",
        TarEntryType.CharacterDevice => "a character device",
        TarEntryType.BlockDevice => "a block device",
        TarEntryType.SparseFile => "a sparse file",
        _ => $"an entry of type {type}",
    };

    private static byte[] SmallArchive()
    {
        using var bytes = new MemoryStream();
        using (var gzip = new GZipStream(bytes, CompressionLevel.Fastest, leaveOpen: true))
        using (var writer = new TarWriter(gzip, TarEntryFormat.Pax, leaveOpen: true))
        {
            writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "a/b") { DataStream = new MemoryStream([1]) });
            writer.WriteEntry(new PaxTarEntry(TarEntryType.SymbolicLink, "a/c") { LinkName = "b" });
        }

        return bytes.ToArray();
    }
}
