using LogQuota.Shared.Contracts;

namespace LogQuota.Server.Data;

/// <summary>A user with a token of their own; the token itself is never stored, only its hash (Teams/UserTokens).</summary>
public sealed class UserEntity
{
    public Guid Id { get; set; }

    public required string Name { get; set; }

    public GlobalRole GlobalRole { get; set; }

    /// <summary>SHA-256 of the token: enough for a 256-bit random token, and looked up by its index on every request.</summary>
    public required byte[] TokenHash { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
}
