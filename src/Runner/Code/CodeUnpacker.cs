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
    /// Unpacks <paramref name="archive"/> into the existing directory <paramref name="directory"/>, as
    /// <paramref name="owner"/> (see <see cref="FileOwner.Run"/>) or, when null, as the runner. At most
    /// <paramref name="maxUnpackedBytes"/> of file contents, counted as they are written. Throws
    /// <see cref="CodeArchiveException"/> for a refused or corrupt archive and <see cref="OperationCanceledException"/>
    /// once <paramref name="cancellationToken"/> is cancelled.
    /// </summary>
    public static void Unpack(Stream archive, string directory, FileOwner? owner, long maxUnpackedBytes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(archive);
        if (owner is null)
        {
            UnpackHere(archive, directory, maxUnpackedBytes, cancellationToken);
        }
        else
        {
            owner.Run(() => UnpackHere(archive, directory, maxUnpackedBytes, cancellationToken));
        }
    }

    /// <summary>Loads what an unpack needs from disk (the tar and gzip assemblies, the native zlib) by reading a small archive in memory.</summary>
    public static void LoadDependencies()
    {
        using var reader = new TarReader(new GZipStream(new MemoryStream(s_smallArchive.Value), CompressionMode.Decompress));
        while (reader.GetNextEntry() is { } entry)
        {
            var parts = CodePaths.Inside(entry.Name);
            CodePaths.CheckSymlinkTarget(entry.Name, parts, "x");
            entry.DataStream?.CopyTo(Stream.Null);
        }
    }

    private static void UnpackHere(Stream archive, string directory, long maxUnpackedBytes, CancellationToken cancellationToken)
    {
        using var tree = CodeTree.Open(directory);
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
                        tree.CreateDirectory(entry.Name, parts, mode);
                        break;
                    case TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile:
                        unpacked = WriteFile(tree, entry, parts, mode, buffer, unpacked, maxUnpackedBytes, cancellationToken);
                        break;
                    case TarEntryType.SymbolicLink:
                        CodePaths.CheckSymlinkTarget(entry.Name, parts, entry.LinkName);
                        tree.CreateSymlink(entry.Name, parts, entry.LinkName);
                        break;
                    case TarEntryType.HardLink:
                        tree.CreateHardLink(entry.Name, parts, entry.LinkName);
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

    /// <summary>Writes one file, counting its bytes against the limit as they are written; returns the new total.</summary>
    private static long WriteFile(CodeTree tree, TarEntry entry, string[] parts, uint mode, byte[] buffer, long unpacked, long max, CancellationToken cancellationToken)
    {
        // The header's size refuses a bomb before its first byte; the count below holds whatever the header says.
        if (entry.Length > max - unpacked)
        {
            throw TooLarge(entry.Name, max);
        }

        using var file = tree.CreateFile(entry.Name, parts, mode);
        long written = 0;
        if (entry.DataStream is { } data)
        {
            while (Read(data, buffer, entry.Name) is var read and > 0)
            {
                if (read > max - unpacked - written)
                {
                    throw TooLarge(entry.Name, max);
                }

                try
                {
                    RandomAccess.Write(file, buffer.AsSpan(0, read), written);
                }
                catch (IOException e)
                {
                    throw CodePaths.Refuse(entry.Name, $"cannot be written: {e.Message}");
                }

                written += read;
                cancellationToken.ThrowIfCancellationRequested();
            }
        }

        return written == entry.Length
            ? unpacked + written
            : throw CodePaths.Refuse(entry.Name, $"is cut short: the archive ends after {written} of its {entry.Length} bytes");
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
        }

        return bytes.ToArray();
    }
}
