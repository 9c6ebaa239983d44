namespace LogQuota.Shared.Contracts;

/// <summary>
/// Value equality for the collections the contract records hold. A record's compiler-made equality compares an
/// <see cref="IReadOnlyList{T}"/> or <see cref="IReadOnlyDictionary{TKey,TValue}"/> member by reference, so two
/// records read from the same JSON would differ; the records that hold collections override it with these.
/// </summary>
public static class ValueEquality
{
    /// <summary>The same items in the same order; null equals only null.</summary>
    public static bool Sequence<T>(IReadOnlyList<T>? a, IReadOnlyList<T>? b) =>
        ReferenceEquals(a, b) || (a is not null && b is not null && a.SequenceEqual(b));

    /// <summary>The same entries; a missing dictionary equals an empty one (no extra variables either way).</summary>
    public static bool Entries(IReadOnlyDictionary<string, string>? a, IReadOnlyDictionary<string, string>? b)
    {
        a ??= Empty;
        b ??= Empty;
        return a.Count == b.Count && a.All(p => b.TryGetValue(p.Key, out var v) && v == p.Value);
    }

    /// <summary>A hash that agrees with <see cref="Sequence{T}"/>.</summary>
    public static int Hash<T>(IReadOnlyList<T>? items)
    {
        var hash = new HashCode();
        hash.Add(items is null);
        foreach (var item in items ?? [])
        {
            hash.Add(item);
        }

        return hash.ToHashCode();
    }

    private static readonly IReadOnlyDictionary<string, string> Empty = new Dictionary<string, string>();
}
