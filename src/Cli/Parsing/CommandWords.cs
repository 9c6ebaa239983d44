namespace LogQuota.Cli.Parsing;

/// <summary>Turns the words after <c>run --</c> into the shell command line the job runs.</summary>
public static class CommandWords
{
    /// <summary>
    /// One word is a shell command line as written (<c>-- 'make &amp;&amp; ./train'</c>); several words are one
    /// command whose arguments reach the job exactly as given here (<c>-- python -c 'print(1)'</c>), quoted for
    /// <c>/bin/sh</c> where needed, as <c>kubectl run -- CMD ARGS</c> or <c>docker run IMAGE CMD ARGS</c> would pass them.
    /// </summary>
    public static string ToCommandLine(IReadOnlyList<string> words)
    {
        ArgumentNullException.ThrowIfNull(words);
        if (words.Count == 0)
        {
            throw new ArgumentException("A command needs at least one word.", nameof(words));
        }

        return words.Count == 1 ? words[0] : string.Join(' ', words.Select(Quote));
    }

    /// <summary>A word as <c>/bin/sh</c> reads it back unchanged: bare when it holds only safe characters, else in single quotes.</summary>
    public static string Quote(string word)
    {
        ArgumentNullException.ThrowIfNull(word);
        if (word.Length > 0 && word.All(IsSafe))
        {
            return word;
        }

        // Inside single quotes nothing is special but the quote itself, which is closed, escaped and reopened.
        return "'" + word.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
    }

    // The same set as Python's shlex.quote: nothing here is special to a POSIX shell.
    private static bool IsSafe(char c) => char.IsAsciiLetterOrDigit(c) || "@%+=:,./-_".Contains(c, StringComparison.Ordinal);
}
