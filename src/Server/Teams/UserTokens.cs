using System.Security.Cryptography;
using System.Text;

namespace LogQuota.Server.Teams;

/// <summary>
/// Users' tokens: 256 random bits, shown once, stored as their SHA-256. A fast unkeyed hash is enough here: a token
/// cannot be guessed, so its hash cannot be reversed by trying, and a fast one costs nothing on every request.
/// </summary>
internal static class UserTokens
{
    /// <summary>Marks a user's token, so a scanner for leaked secrets (and a person) can tell what it is.</summary>
    public const string Prefix = "lqu_";

    public static string Create() => Prefix + Base64Url(RandomNumberGenerator.GetBytes(32));

    public static byte[] Hash(string token) => SHA256.HashData(Encoding.UTF8.GetBytes(token));

    /// <summary>SHA-256 of a stored hash, hex: what a web session keeps to notice a rotated or deleted token.</summary>
    public static string Fingerprint(byte[] tokenHash) => Convert.ToHexString(SHA256.HashData(tokenHash));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
