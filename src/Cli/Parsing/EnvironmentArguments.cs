namespace LogQuota.Cli.Parsing;

/// <summary>The <c>-e KEY=VALUE</c> options of <c>run</c>.</summary>
public static class EnvironmentArguments
{
    /// <summary>Parses every <c>KEY=VALUE</c>; the value may be empty or contain <c>=</c>, the key must be a shell variable name.</summary>
    /// <param name="values">The option values in command-line order.</param>
    /// <param name="env">The variables, when every value is valid.</param>
    /// <param name="error">Otherwise the one line that says which value is wrong and why.</param>
    public static bool TryParse(IEnumerable<string> values, out Dictionary<string, string> env, out string? error)
    {
        ArgumentNullException.ThrowIfNull(values);
        env = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var value in values)
        {
            var equals = value.IndexOf('=', StringComparison.Ordinal);
            if (equals < 0)
            {
                error = $"-e expects KEY=VALUE, got '{value}'";
                return false;
            }

            var key = value[..equals];
            if (!IsName(key))
            {
                error = $"-e '{value}': '{key}' is not a valid variable name (letters, digits and _, not starting with a digit)";
                return false;
            }

            if (!env.TryAdd(key, value[(equals + 1)..]))
            {
                error = $"-e {key} is given more than once";
                return false;
            }
        }

        error = null;
        return true;
    }

    private static bool IsName(string key) =>
        key.Length > 0 &&
        (char.IsAsciiLetter(key[0]) || key[0] == '_') &&
        key.All(c => char.IsAsciiLetterOrDigit(c) || c == '_');
}
