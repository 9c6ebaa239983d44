using System.Collections.Frozen;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace LogQuota.Shared.Json;

/// <summary>Creates <see cref="SnakeCaseEnumConverter{TEnum}"/> for every enum type.</summary>
public sealed class SnakeCaseEnumConverterFactory : JsonConverterFactory
{
    /// <inheritdoc />
    public override bool CanConvert(Type typeToConvert) => typeToConvert.IsEnum;

    /// <inheritdoc />
    public override JsonConverter CreateConverter(Type typeToConvert, JsonSerializerOptions options) =>
        (JsonConverter)Activator.CreateInstance(typeof(SnakeCaseEnumConverter<>).MakeGenericType(typeToConvert))!;
}

/// <summary>
/// Writes an enum as its snake_case name and reads only those names: numbers and unknown names
/// are rejected with a message that lists the allowed values.
/// </summary>
/// <typeparam name="TEnum">The enum type.</typeparam>
public sealed class SnakeCaseEnumConverter<TEnum> : JsonConverter<TEnum>
    where TEnum : struct, Enum
{
    private static readonly FrozenDictionary<TEnum, string> Names =
        Enum.GetValues<TEnum>().ToFrozenDictionary(v => v, v => JsonNamingPolicy.SnakeCaseLower.ConvertName(v.ToString()));

    private static readonly FrozenDictionary<string, TEnum> Values =
        Names.ToFrozenDictionary(p => p.Value, p => p.Key, StringComparer.Ordinal);

    private static readonly string TypeName = JsonNamingPolicy.SnakeCaseLower.ConvertName(typeof(TEnum).Name);

    /// <inheritdoc />
    public override TEnum Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            throw new JsonException($"A {TypeName} must be a string, one of: {string.Join(", ", Values.Keys.Order(StringComparer.Ordinal))}.");
        }

        var text = reader.GetString()!;
        if (Values.TryGetValue(text, out var value))
        {
            return value;
        }

        throw new JsonException($"'{text}' is not a valid {TypeName}; expected one of: {string.Join(", ", Values.Keys.Order(StringComparer.Ordinal))}.");
    }

    /// <inheritdoc />
    public override void Write(Utf8JsonWriter writer, TEnum value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStringValue(Names.TryGetValue(value, out var name)
            ? name
            : throw new JsonException($"{value} is not a defined {TypeName}."));
    }
}
