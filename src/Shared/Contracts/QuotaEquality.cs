namespace LogQuota.Shared.Contracts;

/// <summary>
/// <see cref="LogQuotaStatus"/> compares by value: the server stores a pulled quota block only when it changed.
/// Every property is listed; <c>ContractEqualityTests</c> fails when one is added and not compared.
/// </summary>
public sealed partial record LogQuotaStatus
{
    /// <summary>True when every property is equal, the report included.</summary>
    public bool Equals(LogQuotaStatus? other) =>
        other is not null
        && Limit == other.Limit
        && Action == other.Action
        && UsedBytesHour == other.UsedBytesHour
        && BucketStartedAt == other.BucketStartedAt
        && BucketResetsAt == other.BucketResetsAt
        && DroppedBytes == other.DroppedBytes
        && ExceededAt == other.ExceededAt
        && Equals(Report, other.Report);

    /// <inheritdoc />
    public override int GetHashCode() =>
        HashCode.Combine(Limit, Action, UsedBytesHour, BucketStartedAt, BucketResetsAt, DroppedBytes, ExceededAt, Report);
}

/// <summary><see cref="LogQuotaReport"/> compares by value, its lists item by item.</summary>
public sealed partial record LogQuotaReport
{
    /// <summary>True when every property is equal, the lists item by item.</summary>
    public bool Equals(LogQuotaReport? other) =>
        other is not null
        && BucketStartedAt == other.BucketStartedAt
        && ValueEquality.Sequence(TopLines, other.TopLines)
        && ValueEquality.Sequence(BytesPerMinute, other.BytesPerMinute)
        && DroppedBytes == other.DroppedBytes
        && DroppedLines == other.DroppedLines;

    /// <inheritdoc />
    public override int GetHashCode() =>
        HashCode.Combine(BucketStartedAt, ValueEquality.Hash(TopLines), ValueEquality.Hash(BytesPerMinute), DroppedBytes, DroppedLines);
}
