using System.Text.Json;
using System.Text.Json.Serialization;
using LogQuota.Shared.Contracts;

namespace LogQuota.Shared.Json;

/// <summary>
/// A byte count read as a whole number of bytes or as a size people type (<c>"8GiB"</c>, <c>"512MiB"</c>, the units of
/// <see cref="ByteCount"/>), and always written as a number of bytes.
/// </summary>
public sealed class ByteCountJsonConverter : JsonConverter<long>
{
    /// <inheritdoc />
    public override long Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.Number)
        {
            return reader.TryGetInt64(out var bytes)
                ? bytes
                : throw new JsonException("must be a whole number of bytes, or a size such as \"8GiB\" or \"512MiB\".");
        }

        if (reader.TokenType == JsonTokenType.String)
        {
            var text = reader.GetString();
            return ByteCount.TryParse(text, out var bytes)
                ? bytes
                : throw new JsonException($"must be a whole number of bytes, or a size such as \"8GiB\" or \"512MiB\"; got {JobSpecRules.Quote(text ?? "")}.");
        }

        throw new JsonException("must be a whole number of bytes, or a size such as \"8GiB\" or \"512MiB\".");
    }

    /// <inheritdoc />
    public override void Write(Utf8JsonWriter writer, long value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteNumberValue(value);
    }
}
