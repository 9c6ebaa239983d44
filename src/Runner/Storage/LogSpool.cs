using System.Buffers.Binary;
using System.Text.Json;
using LogQuota.Shared.Contracts;
using LogQuota.Shared.Json;
using Microsoft.Win32.SafeHandles;

namespace LogQuota.Runner.Storage;

/// <summary>
/// A job's stored log events in an append-only file, so a job that writes gigabytes costs disk,
/// not RAM. Each record is <c>[int64 timestamp][int32 length][uint8 log_source][bytes]</c>, little-endian; a record
/// whose source byte has <see cref="StyledFlag"/> set is followed by <c>[int32 length][styles as JSON]</c>. RAM holds
/// only a sparse index (one entry per <see cref="IndexStride"/> bytes of file) to start reads near
/// the asked-for timestamp. One writer (the job's output thread, under the job's lock) appends;
/// any number of readers read what was committed before they looked.
/// </summary>
internal sealed class LogSpool : IDisposable
{
    private const int HeaderSize = 13;

    /// <summary>Set in a record's source byte when its style runs follow the message.</summary>
    private const byte StyledFlag = 0x80;

    /// <summary>64 KiB between index entries: 1 GB of log costs 16 k entries (256 KiB) of RAM.</summary>
    private const long IndexStride = 64 * 1024;

    private readonly SafeFileHandle _file;
    private readonly List<(long Timestamp, long Offset)> _index = [];
    private readonly Lock _indexLock = new();
    // Made with the first record and grown to the largest one: a job that prints nothing holds none of it.
    private byte[] _writeBuffer = [];
    private long _length;
    private long _lastIndexedOffset = -IndexStride;

    public LogSpool(string path)
    {
        _file = File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.Read);
        Isolation.FileModes.Set(_file, Isolation.FileModes.PrivateFile); // 0600 whatever the umask (SPEC §7)
    }

    /// <summary>Bytes committed to the file; readers never look past it.</summary>
    public long Length => Volatile.Read(ref _length);

    /// <summary>
    /// Appends one event; false, with nothing committed, when the file system has no room for it (<c>ENOSPC</c>, or
    /// <c>EDQUOT</c> of a disk quota), so the caller can hold it and try again. Any other failure throws
    /// <see cref="IOException"/>. Timestamps must be strictly increasing (the caller's job lock guarantees it).
    /// </summary>
    public bool TryAppend(long timestamp, ReadOnlySpan<byte> message, LogSource source = LogSource.Stdout, LogStyles? styles = null)
    {
        try
        {
            Append(timestamp, message, source, styles is null ? default : JsonSerializer.SerializeToUtf8Bytes(styles, LogQuotaJson.Options));
            return true;
        }
        catch (IOException e) when (IsOutOfRoom(e))
        {
            // Part of the record may have reached the file past the committed length, where no reader looks; the
            // next attempt writes the whole record again at the same offset.
            return false;
        }
    }

    /// <summary>ENOSPC (28) or EDQUOT (122): .NET puts the raw errno in an IOException's HResult on Unix.</summary>
    public static bool IsOutOfRoom(IOException e) => e?.HResult is 28 or 122;

    private void Append(long timestamp, ReadOnlySpan<byte> message, LogSource source, ReadOnlySpan<byte> styles)
    {
        var offset = _length;
        var styled = !styles.IsEmpty;
        var recordSize = HeaderSize + message.Length + (styled ? 4 + styles.Length : 0);
        if (_writeBuffer.Length < recordSize)
        {
            _writeBuffer = new byte[Math.Max(recordSize, Math.Max(_writeBuffer.Length * 2, 4096))];
        }

        // One write(2) per event: header and message go out together.
        var record = _writeBuffer.AsSpan(0, recordSize);
        BinaryPrimitives.WriteInt64LittleEndian(record, timestamp);
        BinaryPrimitives.WriteInt32LittleEndian(record[8..], message.Length);
        record[12] = (byte)((byte)source | (styled ? StyledFlag : 0));
        message.CopyTo(record[HeaderSize..]);
        if (styled)
        {
            BinaryPrimitives.WriteInt32LittleEndian(record[(HeaderSize + message.Length)..], styles.Length);
            styles.CopyTo(record[(HeaderSize + message.Length + 4)..]);
        }

        RandomAccess.Write(_file, record, offset);
        if (offset - _lastIndexedOffset >= IndexStride)
        {
            lock (_indexLock)
            {
                _index.Add((timestamp, offset));
            }

            _lastIndexedOffset = offset;
        }

        Volatile.Write(ref _length, offset + recordSize);
    }

    /// <summary>
    /// Reads events with a timestamp after <paramref name="after"/> from the first
    /// <paramref name="committedLength"/> bytes, until <paramref name="maxBytes"/> of messages are
    /// collected (at least one event). Returns whether events were left unread.
    /// </summary>
    public bool Read(long after, long committedLength, int maxBytes, List<LogEvent> into)
    {
        ArgumentNullException.ThrowIfNull(into);
        var offset = StartOffset(after);
        var collected = 0L;
        Span<byte> header = stackalloc byte[HeaderSize];
        Span<byte> size = stackalloc byte[4];
        while (offset < committedLength)
        {
            RandomAccess.Read(_file, header, offset);
            var timestamp = BinaryPrimitives.ReadInt64LittleEndian(header);
            var length = BinaryPrimitives.ReadInt32LittleEndian(header[8..]);
            var styled = (header[12] & StyledFlag) != 0;
            var stylesLength = 0;
            if (styled)
            {
                RandomAccess.Read(_file, size, offset + HeaderSize + length);
                stylesLength = 4 + BinaryPrimitives.ReadInt32LittleEndian(size);
            }

            if (timestamp > after)
            {
                if (into.Count > 0 && collected + length > maxBytes)
                {
                    return true;
                }

                var message = new byte[length];
                RandomAccess.Read(_file, message, offset + HeaderSize);
                LogStyles? styles = null;
                if (styled)
                {
                    var json = new byte[stylesLength - 4];
                    RandomAccess.Read(_file, json, offset + HeaderSize + length + 4);
                    styles = JsonSerializer.Deserialize<LogStyles>(json, LogQuotaJson.Options);
                }

                into.Add(new LogEvent(timestamp, message, (LogSource)(header[12] & ~StyledFlag), styles));
                collected += length;
            }

            offset += HeaderSize + length + stylesLength;
        }

        return false;
    }

    private long StartOffset(long after)
    {
        lock (_indexLock)
        {
            // The last indexed event with timestamp <= after: everything before it is older.
            int lo = 0, hi = _index.Count - 1, found = -1;
            while (lo <= hi)
            {
                var mid = (lo + hi) >>> 1;
                if (_index[mid].Timestamp <= after)
                {
                    found = mid;
                    lo = mid + 1;
                }
                else
                {
                    hi = mid - 1;
                }
            }

            return found < 0 ? 0 : _index[found].Offset;
        }
    }

    public void Dispose() => _file.Dispose();
}
