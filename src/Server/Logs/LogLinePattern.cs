using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Text.RegularExpressions;

namespace LogQuota.Server.Logs;

/// <summary>What a log search looks for in each line: a substring, or a .NET regular expression run with a time limit.</summary>
public sealed class LogLinePattern
{
    /// <summary>The longest a regular expression may spend on one line; past it the search answers 400 rather than
    /// letting a catastrophic pattern hold a request (and a database connection) for minutes.</summary>
    public static readonly TimeSpan MatchTimeout = TimeSpan.FromSeconds(1);

    /// <summary>Longer patterns are refused: a search is for a line a person types, and the 400 names the limit.</summary>
    public const int MaxLength = 1000;

    // A substring is looked for through SearchValues (vectorized, in either case mode): per line, span.Contains with
    // OrdinalIgnoreCase searched a 1 GiB log at less than half the speed of a full read (bench/search.py).
    private readonly SearchValues<string>? _substring;
    private readonly Regex? _regex;

    private LogLinePattern(SearchValues<string>? substring, Regex? regex)
    {
        _substring = substring;
        _regex = regex;
    }

    /// <summary>Builds the pattern; false with the 400's detail when <paramref name="text"/> is empty, too long or not a valid regular expression.</summary>
    public static bool TryCreate(string text, bool regex, bool matchCase, [NotNullWhen(true)] out LogLinePattern? pattern, out string problem)
    {
        pattern = null;
        problem = "";
        if (text.Length == 0 || text.Length > MaxLength)
        {
            problem = $"q must be 1 to {MaxLength} characters long, got {text.Length}.";
            return false;
        }

        if (!regex)
        {
            pattern = new LogLinePattern(SearchValues.Create([text], matchCase ? StringComparison.Ordinal : StringComparison.OrdinalIgnoreCase), null);
            return true;
        }

        var options = RegexOptions.CultureInvariant | (matchCase ? RegexOptions.None : RegexOptions.IgnoreCase);
        try
        {
            pattern = new LogLinePattern(null, new Regex(text, options, MatchTimeout));
            return true;
        }
        catch (ArgumentException error)
        {
            problem = $"q is not a valid regular expression (.NET syntax): {error.Message}";
            return false;
        }
    }

    /// <summary>Whether <paramref name="line"/> matches. Throws <see cref="RegexMatchTimeoutException"/> past <see cref="MatchTimeout"/>.</summary>
    public bool IsMatch(ReadOnlySpan<char> line) =>
        _regex is null ? line.IndexOfAny(_substring!) >= 0 : _regex.IsMatch(line);
}
