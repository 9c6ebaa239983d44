using System.Text.RegularExpressions;

namespace LogQuota.Shared.Contracts;

/// <summary>
/// What a project secret may be called and hold, checked by the server when one is set and when a run asks for some.
/// A value is masked in the job's log by its text (<c>***</c> for each occurrence), so it must be text a terminal shows as
/// it is, and long enough that masking it does not mangle ordinary output.
/// </summary>
public static partial class SecretRules
{
    /// <summary>
    /// Fewest characters of a value, and of each line of one: a shorter value (<c>abc</c>, <c>true</c>-like words) is
    /// in ordinary output everywhere, and masking it would turn the log into <c>***</c>s.
    /// </summary>
    public const int MinValueLength = 4;

    /// <summary>Most UTF-8 bytes of a value, as of any one environment entry (<see cref="JobSpecRules.MaxEnvEntryBytes"/>) less a name.</summary>
    public const int MaxValueBytes = 16 * 1024;

    /// <summary>Most characters of a name.</summary>
    public const int MaxNameLength = 128;

    /// <summary>Most secrets one run may ask for.</summary>
    public const int MaxPerRun = 100;

    /// <summary>Names beginning so are the runner's (<c>DSTACK_RUN_NAME</c>, <c>DSTACK_JOB_ID</c>) and refused.</summary>
    public const string ReservedPrefix = "DSTACK_";

    /// <summary>Names the runner sets for every job itself, whatever a run asks.</summary>
    public static readonly IReadOnlyList<string> Reserved = ["HOME"];

    /// <summary>The problem with <paramref name="name"/> as a secret's name, or null: an environment variable name not reserved by the runner.</summary>
    public static string? CheckName(string? name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > MaxNameLength || !EnvName().IsMatch(name))
        {
            return $"A secret's name is an environment variable name: a letter or '_', then letters, digits or '_', at most {MaxNameLength}; got {JobSpecRules.Quote(name ?? "")}.";
        }

        if (name.StartsWith(ReservedPrefix, StringComparison.Ordinal) || Reserved.Contains(name, StringComparer.Ordinal))
        {
            return $"{JobSpecRules.Quote(name)} is reserved: the runner sets {ReservedPrefix}* and HOME for every job itself; choose another name.";
        }

        return null;
    }

    /// <summary>
    /// The problem with <paramref name="value"/> as a secret's value, or null. Every line of it is masked on its own (a
    /// terminal shows a multi-line value as several lines), so each line that is not blank must be long enough to
    /// mask; control characters other than line feeds would be drawn differently on the screen than they are written.
    /// </summary>
    public static string? CheckValue(string? value)
    {
        if (value is null)
        {
            return "value is required: the secret's value, as text.";
        }

        if (System.Text.Encoding.UTF8.GetByteCount(value) > MaxValueBytes)
        {
            return $"A secret's value may hold at most {MaxValueBytes} bytes of UTF-8.";
        }

        if (value.Any(c => char.IsControl(c) && c != '\n'))
        {
            return "A secret's value may not contain control characters other than line feeds (tabs, carriage returns and escapes are drawn on the job's screen differently than they are written, so they could not be masked).";
        }

        var lines = MaskedLines(value);
        if (lines.Count == 0 || lines.Any(line => line.Length < MinValueLength))
        {
            return $"A secret's value, and each of its lines that is not blank, must be at least {MinValueLength} characters long (without trailing spaces): " +
                "the runner replaces every occurrence of it in the job's log with ***, and a shorter value would mask ordinary words.";
        }

        return null;
    }

    /// <summary>The texts the runner masks for a value: each line that is not blank, without trailing whitespace (a screen shows none).</summary>
    public static IReadOnlyList<string> MaskedLines(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return [.. value.Split('\n').Select(line => line.TrimEnd()).Where(line => line.Length > 0)];
    }

    /// <summary>Every problem with the secret names a run asks for, as (JSON field, message).</summary>
    public static IEnumerable<(string Field, string Message)> CheckRunSecrets(IReadOnlyList<string>? names, IReadOnlyDictionary<string, string>? env)
    {
        if (names is null)
        {
            yield break;
        }

        if (names.Count > MaxPerRun)
        {
            yield return ("secrets", $"secrets may name at most {MaxPerRun} secrets, got {names.Count}.");
            yield break;
        }

        foreach (var name in names)
        {
            if (CheckName(name) is { } problem)
            {
                yield return ("secrets", problem);
                yield break;
            }

            if (env?.ContainsKey(name) == true)
            {
                yield return ("secrets", $"{JobSpecRules.Quote(name)} is both in env and in secrets; a job's variable has one value, so name it in one of them.");
                yield break;
            }
        }

        if (names.Distinct(StringComparer.Ordinal).Count() != names.Count)
        {
            yield return ("secrets", "secrets names a secret more than once.");
        }
    }

    [GeneratedRegex(@"^[A-Za-z_][A-Za-z0-9_]*\z", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 1000)]
    private static partial Regex EnvName();
}
