using System.Security.Cryptography;
using System.Text;

namespace LogQuota.Server.Apis;

/// <summary>
/// The sealing under every page token (<see cref="LogsPageTokens"/>, <see cref="Lists.RunsPageTokens"/>): a fixed-size
/// payload and the first 16 bytes of its HMAC-SHA256, in unpadded base64url. The key is derived from the admin token
/// under a label of each token kind's own, so a token of one kind is never accepted for the other, and tokens survive a
/// restart. A context (the job of a logs token) enters the MAC without being carried in the token.
/// </summary>
internal sealed class TokenSigner(string label, string adminToken)
{
    private const int MacLength = 16;

    /// <summary>Longer texts are refused before decoding: every payload here is under 30 bytes.</summary>
    private const int MaxTextLength = 64;

    private readonly byte[] _key = SHA256.HashData(Encoding.UTF8.GetBytes(label + ":" + adminToken));

    public string Seal(ReadOnlySpan<byte> payload, ReadOnlySpan<byte> context = default)
    {
        Span<byte> token = stackalloc byte[payload.Length + MacLength];
        payload.CopyTo(token);
        Mac(context, payload, token[payload.Length..]);
        return Convert.ToBase64String(token).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }

    /// <summary>Fills <paramref name="payload"/> (its length is the payload's) from <paramref name="text"/>; false for anything this signer did not seal with this context.</summary>
    public bool TryOpen(string text, Span<byte> payload, ReadOnlySpan<byte> context = default)
    {
        if (text.Length > MaxTextLength)
        {
            return false;
        }

        var base64 = text.Replace('-', '+').Replace('_', '/');
        base64 += new string('=', (4 - (base64.Length % 4)) % 4);
        Span<byte> token = stackalloc byte[MaxTextLength];
        if (!Convert.TryFromBase64String(base64, token, out var length) || length != payload.Length + MacLength)
        {
            return false;
        }

        Span<byte> expected = stackalloc byte[MacLength];
        Mac(context, token[..payload.Length], expected);
        if (!CryptographicOperations.FixedTimeEquals(expected, token[payload.Length..length]))
        {
            return false;
        }

        token[..payload.Length].CopyTo(payload);

        // Only the exact text this server issues: base64 ignores the unused low bits of the last character, so without
        // this check one token would have several accepted spellings.
        return string.Equals(Seal(payload, context), text, StringComparison.Ordinal);
    }

    private void Mac(ReadOnlySpan<byte> context, ReadOnlySpan<byte> payload, Span<byte> destination)
    {
        Span<byte> input = stackalloc byte[context.Length + payload.Length];
        context.CopyTo(input);
        payload.CopyTo(input[context.Length..]);
        Span<byte> mac = stackalloc byte[32];
        HMACSHA256.HashData(_key, input, mac);
        mac[..MacLength].CopyTo(destination);
    }
}
