namespace LogQuota.Shared.Contracts;

/// <summary>
/// The share of a quota or budget used, in exact integer arithmetic (80 % of 52428800 is reached at exactly 41943040
/// bytes), in 128 bits so that a limit near <see cref="long.MaxValue"/> cannot overflow into a warning. The per-job
/// quota and the project budget warn by it alike.
/// </summary>
public static class QuotaShare
{
    /// <summary>True when <paramref name="used"/> bytes are at least <paramref name="percent"/> % of <paramref name="limit"/>.</summary>
    public static bool Reached(long used, int percent, long limit) => (Int128)used * 100 >= (Int128)percent * limit;

    /// <summary>The whole percentage of <paramref name="limit"/> that <paramref name="used"/> bytes are (past 100 when over).</summary>
    public static long Percent(long used, long limit) => (long)Int128.Min((Int128)used * 100 / limit, long.MaxValue);
}
