using System.Collections;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using System.Text.RegularExpressions;

namespace LogQuota.Shared.Json;

/// <summary>
/// Tells why a request body could not be read in the words of its JSON: the field by its JSON name and what it
/// expects ("`commands` must be a list of strings", "`job_id` must be a UUID", "unknown field `bogus`"), never a .NET
/// type or member name. System.Text.Json's own messages name those ("could not be converted to
/// System.Collections.Generic.IReadOnlyList`1[System.String]"), so the expectation is found again by walking the
/// target type's JSON contract along <see cref="JsonException.Path"/>.
/// </summary>
public static partial class JsonErrors
{
    /// <summary>The sentence for <paramref name="exception"/>, raised while reading a <paramref name="target"/> with <paramref name="options"/>.</summary>
    public static string Describe(JsonException exception, Type target, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(exception);
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(options);

        var message = exception.Message;
        var path = exception.Path ?? "$";
        if (exception.InnerException?.GetType().Name == "JsonReaderException")
        {
            var at = exception.LineNumber is { } line && exception.BytePositionInLine is { } position
                ? $" (line {line + 1}, byte {position + 1})"
                : "";
            return $"it is not valid JSON{at}.";
        }

        if (UnmappedMember().Match(message) is { Success: true } unmapped)
        {
            var name = unmapped.Groups["name"].Value;
            var parent = path.EndsWith(name, StringComparison.Ordinal) || path.EndsWith($"['{name}']", StringComparison.Ordinal)
                ? path[..path.LastIndexOf(path.EndsWith(']') ? '[' : '.')]
                : path;
            var unknown = Field(parent == "$" ? $"$.{name}" : $"{parent}.{name}");
            var known = Walk(target, parent, options) is { } type && Properties(type, options) is { Count: > 0 } names
                ? $"; the fields are: {string.Join(", ", names)}"
                : "";
            return $"unknown field `{unknown}`{known}.";
        }

        if (DuplicateProperty().Match(message) is { Success: true } duplicate)
        {
            return $"the field `{Field(path)}` is given more than once.";
        }

        if (MissingRequired().Match(message) is { Success: true } missing)
        {
            var names = missing.Groups["names"].Value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
                .Select(n => $"`{JsonNamingPolicy.SnakeCaseLower.ConvertName(n.Trim('\''))}`");
            return $"{string.Join(", ", names)} {(names.Count() == 1 ? "is" : "are")} required.";
        }

        var expected = Walk(target, path, options) is { } expectedType ? Expectation(expectedType) : null;
        if (NullNotAllowed().IsMatch(message))
        {
            return path == "$" ? "it must be a JSON object, not null." : $"`{Field(path)}` must be {expected ?? "a value"}, not null.";
        }

        if (message.StartsWith("The JSON value could not be converted", StringComparison.Ordinal) ||
            message.StartsWith("The JSON value is not in a supported", StringComparison.Ordinal) ||
            message.StartsWith("Cannot get the value of a token type", StringComparison.Ordinal) ||
            message.StartsWith("Either the JSON value is not in a supported format", StringComparison.Ordinal))
        {
            return path == "$" ? "it must be a JSON object." : $"`{Field(path)}` must be {expected ?? "another kind of value"}.";
        }

        // LogQuota's own converters (enums, times) throw sentences written for people; anything else is not shown,
        // since it may name .NET types.
        var own = !message.Contains(" Path: ", StringComparison.Ordinal) &&
                  !message.Contains("LogQuota.", StringComparison.Ordinal) && !message.Contains("System.", StringComparison.Ordinal);
        var field = path == "$" ? "the body" : $"`{Field(path)}`";
        return own ? $"{field}: {message}" : $"{field} is not valid{(expected is null ? "" : $": it must be {expected}")}.";
    }

    /// <summary>"$.job_spec.commands[0]" → "job_spec.commands[0]".</summary>
    private static string Field(string path) => path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path.TrimStart('$');

    /// <summary>The type found at <paramref name="path"/> inside <paramref name="target"/>, or null where the path leaves the contract.</summary>
    private static Type? Walk(Type target, string path, JsonSerializerOptions options)
    {
        Type? type = target;
        foreach (Match segment in PathSegment().Matches(path))
        {
            type = Nullable.GetUnderlyingType(type!) ?? type;
            if (segment.Groups["index"].Success)
            {
                type = ElementType(type!);
            }
            else
            {
                var name = segment.Groups["name"].Success ? segment.Groups["name"].Value : segment.Groups["quoted"].Value;
                type = DictionaryValueType(type!) ?? PropertyType(type!, name, options);
            }

            if (type is null)
            {
                return null;
            }
        }

        return type;
    }

    private static Type? PropertyType(Type type, string name, JsonSerializerOptions options)
    {
        if (type == typeof(string) || type.IsPrimitive || !(type.IsClass || type.IsValueType))
        {
            return null;
        }

        var info = options.GetTypeInfo(type);
        return info.Kind == JsonTypeInfoKind.Object ? info.Properties.FirstOrDefault(p => p.Name == name)?.PropertyType : null;
    }

    private static List<string> Properties(Type type, JsonSerializerOptions options)
    {
        var info = options.GetTypeInfo(type);
        return info.Kind == JsonTypeInfoKind.Object ? [.. info.Properties.Select(p => p.Name)] : [];
    }

    private static Type? DictionaryValueType(Type type) =>
        Generic(type, typeof(IReadOnlyDictionary<,>)) is { } d ? d.GetGenericArguments()[1]
        : Generic(type, typeof(IDictionary<,>)) is { } m ? m.GetGenericArguments()[1]
        : null;

    private static Type? ElementType(Type type) =>
        type == typeof(string) ? null
        : type.IsArray ? type.GetElementType()
        : Generic(type, typeof(IEnumerable<>))?.GetGenericArguments()[0];

    private static Type? Generic(Type type, Type definition) =>
        type.IsGenericType && type.GetGenericTypeDefinition() == definition
            ? type
            : type.GetInterfaces().FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == definition);

    /// <summary>What a value of <paramref name="type"/> is, in JSON words: "a list of strings".</summary>
    private static string Expectation(Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        return type switch
        {
            _ when type == typeof(string) => "a string",
            _ when type == typeof(bool) => "true or false",
            _ when type == typeof(Guid) => "a UUID",
            _ when type == typeof(DateTimeOffset) || type == typeof(DateTime) => "an ISO 8601 time",
            _ when type == typeof(byte[]) => "a base64 string",
            _ when type == typeof(int) || type == typeof(long) || type == typeof(short) || type == typeof(uint) || type == typeof(ulong) =>
                $"a whole number from {Min(type)} to {Max(type)}",
            _ when type == typeof(double) || type == typeof(float) || type == typeof(decimal) => "a number",
            _ when type.IsEnum => "a string",
            _ when DictionaryValueType(type) is { } value => $"an object of {Plural(value)}",
            _ when ElementType(type) is { } element && typeof(IEnumerable).IsAssignableFrom(type) => $"a list of {Plural(element)}",
            _ => "an object",
        };
    }

    private static string Plural(Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        return type switch
        {
            _ when type == typeof(string) => "strings",
            _ when type == typeof(bool) => "booleans",
            _ when type == typeof(Guid) => "UUIDs",
            _ when type == typeof(int) || type == typeof(long) || type == typeof(short) => "whole numbers",
            _ when type == typeof(double) || type == typeof(float) || type == typeof(decimal) => "numbers",
            _ => "objects",
        };
    }

    private static string Min(Type type) =>
        type == typeof(int) ? $"{int.MinValue}" : type == typeof(short) ? $"{short.MinValue}" : type == typeof(long) ? $"{long.MinValue}" : "0";

    private static string Max(Type type) =>
        type == typeof(int) ? $"{int.MaxValue}" : type == typeof(short) ? $"{short.MaxValue}" : type == typeof(long) ? $"{long.MaxValue}"
        : type == typeof(uint) ? $"{uint.MaxValue}" : $"{ulong.MaxValue}";

    [GeneratedRegex(@"^The JSON property '(?<name>.*?)' could not be mapped")]
    private static partial Regex UnmappedMember();

    [GeneratedRegex(@"[Dd]uplicate")]
    private static partial Regex DuplicateProperty();

    [GeneratedRegex(@"missing required properties including: (?<names>.*?)\.?$")]
    private static partial Regex MissingRequired();

    [GeneratedRegex(@"doesn't allow (getting |setting )?null values|cannot be null|null value")]
    private static partial Regex NullNotAllowed();

    [GeneratedRegex(@"\.(?<name>[^.\[\]]+)|\['(?<quoted>(?:[^']|'')*)'\]|\[(?<index>\d+)\]")]
    private static partial Regex PathSegment();
}
