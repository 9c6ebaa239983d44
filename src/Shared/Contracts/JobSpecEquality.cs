namespace LogQuota.Shared.Contracts;

/// <summary>
/// <see cref="JobSpec"/> compares by value: a runner tells a resubmit of the same job ("already known") from a changed
/// one ("conflict") with it. Every property is listed here; <c>ContractEqualityTests</c> fails when one is added to
/// the record and not to <see cref="Equals(JobSpec)"/>.
/// </summary>
public sealed partial record JobSpec
{
    /// <summary>True when <paramref name="other"/> runs the same thing: every property equal, collections item by item.</summary>
    public bool Equals(JobSpec? other) =>
        other is not null
        && ValueEquality.Sequence(Commands, other.Commands)
        && ValueEquality.Entries(Env, other.Env)
        && WorkingDir == other.WorkingDir
        && MaxDuration == other.MaxDuration
        && LogQuotaHour == other.LogQuotaHour
        && Tty == other.Tty
        && LogQuotaAction == other.LogQuotaAction
        && ValueEquality.Sequence(LogQuotaWarnAt, other.LogQuotaWarnAt)
        && LogQuotaKillGrace == other.LogQuotaKillGrace
        && CodeHash == other.CodeHash
        && Resources == other.Resources
        && Columns == other.Columns
        && ValueEquality.Sequence(Secrets, other.Secrets);

    /// <inheritdoc />
    public override int GetHashCode() =>
        HashCode.Combine(ValueEquality.Hash(Commands), WorkingDir, MaxDuration, LogQuotaHour, Tty, LogQuotaAction, LogQuotaKillGrace, CodeHash);
}
