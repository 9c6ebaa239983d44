using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
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
    private const int MacLength = 16;

    private readonly byte[] _key = SHA256.HashData(Encoding.UTF8.GetBytes("logquota-logs-token:" + settings.AdminToken));

    public string Create(Guid jobId, bool descending, LogCursor cursor)
    {
        Span<byte> token = stackalloc byte[PayloadLength + MacLength];
        token[0] = Version;
        token[1] = descending ? (byte)1 : (byte)0;
        BinaryPrimitives.WriteInt64BigEndian(token[2..], cursor.Timestamp);
        BinaryPrimitives.WriteInt64BigEndian(token[10..], cursor.Id);
        Mac(jobId, token[..PayloadLength], token[PayloadLength..]);
        return Convert.ToBase64String(token).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }

    public bool TryRead(string text, Guid jobId, bool descending, out LogCursor cursor)
    {
        cursor = default;
        var base64 = text.Replace('-', '+').Replace('_', '/');
        base64 += new string('=', (4 - (base64.Length % 4)) % 4);
        Span<byte> token = stackalloc byte[PayloadLength + MacLength + 3];
        if (text.Length > 64 ||
            !Convert.TryFromBase64String(base64, token, out var length) ||
            length != PayloadLength + MacLength)
        {
            return false;
        }

        Span<byte> expected = stackalloc byte[MacLength];
        Mac(jobId, token[..PayloadLength], expected);
        if (!CryptographicOperations.FixedTimeEquals(expected, token[PayloadLength..length]) ||
            token[0] != Version || token[1] != (descending ? 1 : 0))
        {
            return false;
        }

        cursor = new LogCursor(BinaryPrimitives.ReadInt64BigEndian(token[2..]), BinaryPrimitives.ReadInt64BigEndian(token[10..]));

        // Only the exact text this server issues: base64 ignores the unused low bits of the last character, so
        // without this check one token would have several accepted spellings.
        return string.Equals(Create(jobId, descending, cursor), text, StringComparison.Ordinal);
    }

    private void Mac(Guid jobId, ReadOnlySpan<byte> payload, Span<byte> destination)
    {
        Span<byte> input = stackalloc byte[16 + PayloadLength];
        jobId.TryWriteBytes(input);
        payload.CopyTo(input[16..]);
        Span<byte> mac = stackalloc byte[32];
        HMACSHA256.HashData(_key, input, mac);
        mac[..MacLength].CopyTo(destination);
    }
}
