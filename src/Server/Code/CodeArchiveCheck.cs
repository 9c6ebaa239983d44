using System.Formats.Tar;
using System.IO.Compression;

namespace LogQuota.Server.Code;

/// <summary>
/// Whether an upload is a gzip'd tar: it is decompressed and its tar headers walked, streaming, with nothing written
/// anywhere. The walk is bounded (<see cref="MaxUnpackedBytes"/>, <see cref="MaxEntries"/>), since 128 MiB of gzip can
/// expand a thousandfold. What is in the entries is the runner's business: it unpacks them, hostile input and all.
/// </summary>
internal static class CodeArchiveCheck
{
    /// <summary>4 GiB unpacked: four times a runner's default <c>DSTACK_RUNNER_CODE_MAX_UNPACKED</c>, a few seconds of inflating.</summary>
    public const long MaxUnpackedBytes = 4L << 30;

    /// <summary>Entries walked at most.</summary>
    public const int MaxEntries = 1_000_000;

    /// <summary>Why <paramref name="archive"/> (read from its current position to its end) is not a gzip'd tar, or null when it is.</summary>
    public static Task<string?> ProblemAsync(Stream archive, CancellationToken cancellationToken) =>
        ProblemAsync(archive, MaxUnpackedBytes, MaxEntries, cancellationToken);

    /// <summary>The same with other bounds (tests prove the bounds hold without inflating gigabytes).</summary>
    internal static async Task<string?> ProblemAsync(Stream archive, long maxUnpackedBytes, int maxEntries, CancellationToken cancellationToken)
    {
        var body = new TrailerReadStream(archive);
        var gzip = new GZipStream(body, CompressionMode.Decompress, leaveOpen: true);
        await using var unpacked = new CountingReadStream(gzip, maxUnpackedBytes);
        try
        {
            var entries = 0;
            await using (var tar = new TarReader(unpacked, leaveOpen: true))
            {
                while (await tar.GetNextEntryAsync(copyData: false, cancellationToken) is not null)
                {
                    if (++entries > maxEntries)
                    {
                        return $"The archive holds more than {maxEntries} entries.";
                    }
                }
            }

            // The rest up to gzip's end, so its checksum is verified too.
            await unpacked.CopyToAsync(Stream.Null, cancellationToken);

            // An empty tar is two zero blocks; fewer bytes are not a tar at all (gzip of a short text reads as no entry).
            if (unpacked.Count < 1024)
            {
                return NotATar;
            }

            // GZipStream ends quietly at a body cut short, trailer and all; the trailer's ISIZE (the unpacked size modulo
            // 2^32) tells. Concatenated gzip members would carry only the last one's size: tar czf never makes them.
            await body.CopyToAsync(Stream.Null, cancellationToken);
            return body.TrailerSize == (uint)unpacked.Count
                ? null
                : "The body is not a valid gzip'd tar: it ends early (the size in its gzip trailer does not match); upload it whole.";
        }
        catch (UnpackedTooLargeException)
        {
            return $"The archive unpacks to more than {maxUnpackedBytes} bytes.";
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or FormatException or ArgumentException or InvalidOperationException)
        {
            // GZipStream says "The archive entry was compressed using an unsupported compression method." and the like;
            // the one line says which of the two layers failed.
            return Describe(e, unpacked.Count);
        }
    }

    private const string NotATar = "The body is gzip, but what it holds is not a tar archive; send a gzip'd tar (tar czf).";

    private static string Describe(Exception e, long unpackedBytes) => unpackedBytes switch
    {
        0 when e is InvalidDataException => $"The body is not gzip-compressed ({e.Message.TrimEnd('.')}); send a gzip'd tar (tar czf).",

        // The first tar header did not even parse.
        <= 512 => NotATar,
        _ => $"The body is not a valid gzip'd tar: {e.Message.TrimEnd('.')} (after {unpackedBytes} unpacked bytes).",
    };

    /// <summary>Reads through and keeps the last four bytes: the trailer's ISIZE once the body has been read to its end.</summary>
    private sealed class TrailerReadStream(Stream inner) : Stream
    {
        private readonly byte[] _last = new byte[4];
        private long _count;

        /// <summary>The little-endian number in the last four bytes read.</summary>
        public uint TrailerSize => _count < 4 ? uint.MaxValue : System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(Ordered());

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => _count;
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => Kept(buffer.AsSpan(offset, inner.Read(buffer, offset, count)));

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var read = await inner.ReadAsync(buffer, cancellationToken);
            return Kept(buffer.Span[..read]);
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        /// <summary>Byte n of the body goes to place n % 4 of <see cref="_last"/>; only the last four of a read can matter.</summary>
        private int Kept(ReadOnlySpan<byte> read)
        {
            var skipped = Math.Max(read.Length - 4, 0);
            _count += skipped;
            foreach (var b in read[skipped..])
            {
                _last[(int)(_count++ % 4)] = b;
            }

            return read.Length;
        }

        private byte[] Ordered() => [.. Enumerable.Range(0, 4).Select(i => _last[(int)((_count + i) % 4)])];
    }

    private sealed class UnpackedTooLargeException() : IOException("The archive unpacks to more than allowed.");

    /// <summary>Reads through, counting, and throws once more than the limit has come out.</summary>
    private sealed class CountingReadStream(Stream inner, long limit) : Stream
    {
        public long Count { get; private set; }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => Count;
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => Counted(inner.Read(buffer, offset, count));

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            Counted(await inner.ReadAsync(buffer, cancellationToken));

        public override async Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            Counted(await inner.ReadAsync(buffer.AsMemory(offset, count), cancellationToken));

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }

        private int Counted(int read)
        {
            Count += read;
            if (Count > limit)
            {
                throw new UnpackedTooLargeException();
            }

            return read;
        }
    }
}
