namespace LogQuota.Server.Data;

/// <summary>
/// A stored code archive (SPEC §9): a gzip'd tar named by the SHA-256 of its bytes, which are in
/// <see cref="CodeChunkEntity"/> rows. The row and all its chunks commit together, so a row that exists is complete.
/// </summary>
public sealed class CodeArchiveEntity
{
    /// <summary>The lowercase hex SHA-256 of the compressed bytes.</summary>
    public required string Sha256 { get; set; }

    public long SizeBytes { get; set; }

    /// <summary>The number of chunks, numbered from 0.</summary>
    public int Chunks { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>
    /// The last upload or submit that named it. The garbage collector keeps an archive no job refers to for a grace
    /// period after this, since an upload is followed by its submit; a submit moves it in its own transaction.
    /// </summary>
    public DateTimeOffset UsedAt { get; set; }
}

/// <summary>One piece of a <see cref="CodeArchiveEntity"/>'s bytes, at most <c>CodeStore.ChunkBytes</c> long.</summary>
public sealed class CodeChunkEntity
{
    public required string Sha256 { get; set; }

    /// <summary>The chunk's place in the archive, from 0.</summary>
    public int Seq { get; set; }

    public required byte[] Data { get; set; }
}
