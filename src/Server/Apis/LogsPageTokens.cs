using System.Buffers.Binary;
using LogQuota.Server.Configuration;

namespace LogQuota.Server.Apis;

/// <summary>A position in a job's log: the last event of a page, by (timestamp, id).</summary>
public readonly record struct LogCursor(long Timestamp, long Id);

/// <summary>
/// <c>next_token</c>s: the cursor, the direction and the job, signed with an HMAC keyed from the admin token.
/// A token that was altered, comes from another run or another direction is refused with 400 rather than
/// answered with a wrong page. Tokens survive a server restart (the key does not change).
/// </summary>
public sealed class LogsPageTokens(ServerSettings settings)
{
    private const byte Version = 1;
    private const int PayloadLength = 1 + 1 + 8 + 8;

    private readonly TokenSigner _signer = new("logquota-logs-token", settings.AdminToken);

    public string Create(Guid jobId, bool descending, LogCursor cursor)
    {
        Span<byte> payload = stackalloc byte[PayloadLength];
        payload[0] = Version;
        payload[1] = descending ? (byte)1 : (byte)0;
        BinaryPrimitives.WriteInt64BigEndian(payload[2..], cursor.Timestamp);
        BinaryPrimitives.WriteInt64BigEndian(payload[10..], cursor.Id);
        return _signer.Seal(payload, jobId.ToByteArray());
    }

    public bool TryRead(string text, Guid jobId, bool descending, out LogCursor cursor)
    {
        cursor = default;
        Span<byte> payload = stackalloc byte[PayloadLength];
        if (!_signer.TryOpen(text, payload, jobId.ToByteArray()) || payload[0] != Version || payload[1] != (descending ? 1 : 0))
        {
            return false;
        }

        cursor = new LogCursor(BinaryPrimitives.ReadInt64BigEndian(payload[2..]), BinaryPrimitives.ReadInt64BigEndian(payload[10..]));
        return true;
    }
}
