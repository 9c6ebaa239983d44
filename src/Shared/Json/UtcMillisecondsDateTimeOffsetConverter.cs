using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace LogQuota.Shared.Json;

/// <summary>Writes times as ISO 8601 UTC with milliseconds (<c>2026-11-29T06:27:20.123Z</c>); reads any ISO 8601 time.</summary>
public sealed class UtcMillisecondsDateTimeOffsetConverter : JsonConverter<DateTimeOffset>
{
    private const string Format = "yyyy-MM-dd'T'HH:mm:ss.fff'Z'";

    /// <inheritdoc />
    public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.String &&
            DateTimeOffset.TryParse(reader.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var value))
        {
            return value.ToUniversalTime();
        }

        throw new JsonException("A time must be an ISO 8601 string such as 2026-11-29T06:27:20.123Z.");
    }

    /// <inheritdoc />
    public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStringValue(value.ToUniversalTime().ToString(Format, CultureInfo.InvariantCulture));
    }

    /// <summary>The wire form of <paramref name="value"/>.</summary>
    public static string ToWire(DateTimeOffset value) => value.ToUniversalTime().ToString(Format, CultureInfo.InvariantCulture);
}
