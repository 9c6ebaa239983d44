using System.Collections.Frozen;
using System.Diagnostics.CodeAnalysis;
using System.Text.Json;

namespace LogQuota.Shared.Contracts;

/// <summary>
/// The one table of an enum's wire names: each value's snake_case name (<c>log_quota_exceeded</c>), as JSON writes
/// it and as every parser reads it (the JSON converter, settings, the web form, the CLI's options, query parameters).
/// </summary>
public static class WireNames
{
    /// <summary>The wire name of <paramref name="value"/>, which the enum must define.</summary>
    public static string Of<TEnum>(TEnum value)
        where TEnum : struct, Enum =>
        Table<TEnum>.Names.TryGetValue(value, out var name)
            ? name
            : throw new ArgumentOutOfRangeException(nameof(value), value, $"not a defined {TypeName<TEnum>()}");

    /// <summary>The wire name of <paramref name="value"/>; false for a value the enum does not define.</summary>
    public static bool TryGetName<TEnum>(TEnum value, [NotNullWhen(true)] out string? name)
        where TEnum : struct, Enum => Table<TEnum>.Names.TryGetValue(value, out name);

    /// <summary>Reads a wire name exactly (case and all); false for anything else, null included.</summary>
    public static bool TryParse<TEnum>(string? text, out TEnum value)
        where TEnum : struct, Enum
    {
        value = default;
        return text is not null && Table<TEnum>.Values.TryGetValue(text, out value);
    }

    /// <summary>Every wire name, in the enum's declaration order (<c>kill</c>, <c>truncate</c>, <c>observe</c>).</summary>
    public static IReadOnlyList<string> All<TEnum>()
        where TEnum : struct, Enum => Table<TEnum>.All;

    /// <summary>The names for a message, in declaration order: <c>kill, truncate or observe</c>.</summary>
    public static string Alternatives<TEnum>()
        where TEnum : struct, Enum => Table<TEnum>.Alternatives;

    /// <summary>The snake_case name of the enum type itself (<c>log_quota_action</c>).</summary>
    public static string TypeName<TEnum>()
        where TEnum : struct, Enum => Table<TEnum>.TypeName;

    private static class Table<TEnum>
        where TEnum : struct, Enum
    {
        public static readonly FrozenDictionary<TEnum, string> Names =
            Enum.GetValues<TEnum>().ToFrozenDictionary(v => v, v => JsonNamingPolicy.SnakeCaseLower.ConvertName(v.ToString()));

        public static readonly FrozenDictionary<string, TEnum> Values =
            Names.ToFrozenDictionary(p => p.Value, p => p.Key, StringComparer.Ordinal);

        public static readonly string[] All = Enum.GetValues<TEnum>().Select(v => Names[v]).ToArray();

        public static readonly string Alternatives =
            All.Length == 1 ? All[0] : $"{string.Join(", ", All.Take(All.Length - 1))} or {All[^1]}";

        public static readonly string TypeName = JsonNamingPolicy.SnakeCaseLower.ConvertName(typeof(TEnum).Name);
    }
}
