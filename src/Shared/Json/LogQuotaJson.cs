using System.Text.Json;
using System.Text.Json.Serialization;

namespace LogQuota.Shared.Json;

/// <summary>
/// The one place that defines how LogQuota speaks JSON: snake_case names, enums as snake_case
/// strings (unknown values rejected with the list of allowed ones), times as ISO 8601 UTC with
/// milliseconds, byte arrays as base64.
/// </summary>
public static class LogQuotaJson
{
    /// <summary>Options for reading answers and writing anything: unknown members are ignored.</summary>
    public static JsonSerializerOptions Options { get; } = Create(strict: false);

    /// <summary>Options for reading request bodies: unknown members and duplicate keys are an error.</summary>
    public static JsonSerializerOptions StrictOptions { get; } = Create(strict: true);

    /// <summary>Applies the LogQuota settings to <paramref name="options"/> (for ASP.NET Core's own options).</summary>
    public static void Configure(JsonSerializerOptions options, bool strict)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
        options.DictionaryKeyPolicy = null;
        options.DefaultIgnoreCondition = JsonIgnoreCondition.Never;
        options.NumberHandling = JsonNumberHandling.Strict;
        options.RespectNullableAnnotations = true;
        options.RespectRequiredConstructorParameters = true;
        options.UnmappedMemberHandling = strict ? JsonUnmappedMemberHandling.Disallow : JsonUnmappedMemberHandling.Skip;

        // A key given twice is refused rather than resolved last-wins: two readers of the same body must never
        // disagree about what it says.
        options.AllowDuplicateProperties = !strict;
        options.Converters.Add(new SnakeCaseEnumConverterFactory());
        options.Converters.Add(new UtcMillisecondsDateTimeOffsetConverter());
    }

    private static JsonSerializerOptions Create(bool strict)
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.General);
        Configure(options, strict);
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }
}
