using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using LogQuota.Server.Configuration;

namespace LogQuota.Server.Apis.Lists;

/// <summary>A position in the runs list: the last row of a page, by (submitted_at, id), newest first.</summary>
public readonly record struct RunCursor(long SubmittedAt, Guid Id);

/// <summary>
/// <c>next_token</c>s of <c>GET /api/runs</c>: the cursor and the filter, signed with an HMAC keyed from the admin token
/// (under another label than the logs tokens, so neither is accepted for the other). A token that was altered or that
/// was issued for the other <c>only_active</c> is refused with 400 rather than answered with a wrong page.
/// </summary>
public sealed class RunsPageTokens(ServerSettings settings)
{
    private const byte Version = 1;
    private const int PayloadLength = 1 + 1 + 8 + 16;
    private const int MacLength = 16;

    private readonly byte[] _key = SHA256.HashData(Encoding.UTF8.GetBytes("logquota-runs-token:" + settings.AdminToken));

    public string Create(bool onlyActive, RunCursor cursor)
    {
        Span<byte> token = stackalloc byte[PayloadLength + MacLength];
        token[0] = Version;
        token[1] = onlyActive ? (byte)1 : (byte)0;
        BinaryPrimitives.WriteInt64BigEndian(token[2..], cursor.SubmittedAt);
        cursor.Id.TryWriteBytes(token[10..], bigEndian: true, out _);
        Mac(token[..PayloadLength], token[PayloadLength..]);
        return Convert.ToBase64String(token).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }

    public bool TryRead(string text, bool onlyActive, out RunCursor cursor)
    {
        cursor = default;
        Span<byte> token = stackalloc byte[PayloadLength + MacLength + 3];
        if (text.Length > 64)
        {
            return false;
        }

        var base64 = text.Replace('-', '+').Replace('_', '/');
        base64 += new string('=', (4 - (base64.Length % 4)) % 4);
        if (!Convert.TryFromBase64String(base64, token, out var length) || length != PayloadLength + MacLength)
        {
            return false;
        }

        Span<byte> expected = stackalloc byte[MacLength];
        Mac(token[..PayloadLength], expected);
        if (!CryptographicOperations.FixedTimeEquals(expected, token[PayloadLength..length]) ||
            token[0] != Version || token[1] != (onlyActive ? 1 : 0))
        {
            return false;
        }

        cursor = new RunCursor(BinaryPrimitives.ReadInt64BigEndian(token[2..]), new Guid(token[10..PayloadLength], bigEndian: true));

        // Only the exact text this server issues: base64 ignores the unused low bits of the last character.
        return string.Equals(Create(onlyActive, cursor), text, StringComparison.Ordinal);
    }

    private void Mac(ReadOnlySpan<byte> payload, Span<byte> destination)
    {
        Span<byte> mac = stackalloc byte[32];
        HMACSHA256.HashData(_key, payload, mac);
        mac[..MacLength].CopyTo(destination);
    }
}
