using System.Security.Cryptography;
using System.Text;

namespace LogQuota.Shared.Security;

/// <summary>
/// Checks an <c>Authorization</c> header against one expected bearer token, the same way on the server and the runner.
/// Both sides are hashed with SHA-256 before <see cref="CryptographicOperations.FixedTimeEquals"/>: the comparison
/// always runs over 32 bytes, so its time depends neither on how many leading characters are right nor on the
/// length of what was sent.
/// </summary>
public sealed class BearerToken
{
    private const string Scheme = "Bearer ";

    private readonly byte[] _expectedHash;

    /// <summary>Creates a check for <paramref name="token"/>.</summary>
    /// <param name="token">The expected token; must not be empty.</param>
    public BearerToken(string token)
    {
        ArgumentException.ThrowIfNullOrEmpty(token);
        _expectedHash = SHA256.HashData(Encoding.UTF8.GetBytes(token));
    }

    /// <summary>True when <paramref name="authorization"/> is <c>Bearer &lt;token&gt;</c> (scheme case-insensitive, RFC 7235).</summary>
    /// <param name="authorization">The raw <c>Authorization</c> header; null or empty when absent.</param>
    public bool Matches(string? authorization) => TryRead(authorization, out var presented) && MatchesToken(presented);

    /// <summary>True when <paramref name="presented"/>, a token read from a header, is the expected token.</summary>
    /// <param name="presented">The token itself, without the scheme.</param>
    public bool MatchesToken(string presented)
    {
        ArgumentNullException.ThrowIfNull(presented);
        Span<byte> presentedHash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(presented), presentedHash);
        return CryptographicOperations.FixedTimeEquals(presentedHash, _expectedHash);
    }

    /// <summary>Reads the token of <c>Bearer &lt;token&gt;</c> (scheme case-insensitive, RFC 7235); false for any other header or an empty token.</summary>
    /// <param name="authorization">The raw <c>Authorization</c> header; null or empty when absent.</param>
    /// <param name="token">The token, trimmed; empty when false.</param>
    public static bool TryRead(string? authorization, out string token)
    {
        token = "";
        if (authorization is null || !authorization.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        token = authorization[Scheme.Length..].Trim();
        return token.Length > 0;
    }
}
