namespace LogQuota.Shared.Contracts;

/// <summary>The answer to <c>PUT /api/code/{sha256}</c>: the archive the server now holds (SPEC §9).</summary>
/// <param name="Sha256">The lowercase hex SHA-256 of the compressed bytes, the archive's name.</param>
/// <param name="SizeBytes">Its compressed size.</param>
public sealed record CodeArchiveInfo(string Sha256, long SizeBytes);
