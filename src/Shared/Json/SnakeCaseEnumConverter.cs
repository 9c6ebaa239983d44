using System.Text.Json;
using System.Text.Json.Serialization;
using LogQuota.Shared.Contracts;

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
/// Writes an enum as its wire name (<see cref="WireNames"/>) and reads only those names: numbers and unknown
/// names are rejected with a message that lists the allowed values.
/// </summary>
/// <typeparam name="TEnum">The enum type.</typeparam>
public sealed class SnakeCaseEnumConverter<TEnum> : JsonConverter<TEnum>
    where TEnum : struct, Enum
{
    private static readonly string Allowed = string.Join(", ", WireNames.All<TEnum>().Order(StringComparer.Ordinal));

    /// <inheritdoc />
    public override TEnum Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            throw new JsonException($"A {WireNames.TypeName<TEnum>()} must be a string, one of: {Allowed}.");
        }

        var text = reader.GetString()!;
        if (WireNames.TryParse<TEnum>(text, out var value))
        {
            return value;
        }

        throw new JsonException($"'{text}' is not a valid {WireNames.TypeName<TEnum>()}; expected one of: {Allowed}.");
    }

    /// <inheritdoc />
    public override void Write(Utf8JsonWriter writer, TEnum value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStringValue(WireNames.TryGetName(value, out var name)
            ? name
            : throw new JsonException($"{value} is not a defined {WireNames.TypeName<TEnum>()}."));
    }
}
