using System.Text;
using System.Text.RegularExpressions;

namespace LogQuota.Cli.Code;

/// <summary>
/// The patterns of a <c>.logquotaignore</c>, read as git reads a <c>.gitignore</c> at the top of a tree: blank lines
/// and <c>#</c> comments are skipped, <c>!</c> re-includes, a trailing <c>/</c> matches directories only, a pattern
/// with a <c>/</c> before its end is anchored to the top (a leading <c>/</c> only anchors), one without matches at
/// any depth, <c>*</c>, <c>?</c> and <c>[...]</c> stay within one path segment, and <c>**</c> crosses segments.
/// The last pattern that matches decides.
/// </summary>
/// <remarks>
/// As in git, a file inside an ignored directory cannot be re-included: the caller does not descend into a
/// directory this ignores.
/// </remarks>
public sealed class IgnoreRules
{
    /// <summary>The file name read at the top of a code directory outside git.</summary>
    public const string FileName = ".logquotaignore";

    private readonly IReadOnlyList<Rule> _rules;

    private IgnoreRules(IReadOnlyList<Rule> rules) => _rules = rules;

    /// <summary>No patterns: nothing is ignored.</summary>
    public static IgnoreRules None { get; } = new([]);

    /// <summary>Parses the text of an ignore file.</summary>
    public static IgnoreRules Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var rules = new List<Rule>();
        foreach (var raw in text.ReplaceLineEndings("\n").Split('\n'))
        {
            if (Rule.TryParse(raw) is { } rule)
            {
                rules.Add(rule);
            }
        }

        return new IgnoreRules(rules);
    }

    /// <summary>Reads <see cref="FileName"/> in <paramref name="directory"/>; <see cref="None"/> when there is none.</summary>
    public static IgnoreRules Load(string directory)
    {
        var path = Path.Combine(directory, FileName);
        return File.Exists(path) ? Parse(File.ReadAllText(path)) : None;
    }

    /// <summary>Whether <paramref name="relativePath"/> (segments separated by <c>/</c>, no leading <c>/</c>) is ignored.</summary>
    public bool IsIgnored(string relativePath, bool isDirectory)
    {
        ArgumentNullException.ThrowIfNull(relativePath);
        for (var i = _rules.Count - 1; i >= 0; i--)
        {
            var rule = _rules[i];
            if ((!rule.DirectoryOnly || isDirectory) && rule.Pattern.IsMatch(relativePath))
            {
                return !rule.Negated;
            }
        }

        return false;
    }

    private sealed record Rule(Regex Pattern, bool Negated, bool DirectoryOnly)
    {
        public static Rule? TryParse(string line)
        {
            var text = TrimTrailingSpaces(line);
            if (text.Length == 0 || text[0] == '#')
            {
                return null;
            }

            var negated = text[0] == '!';
            if (negated)
            {
                text = text[1..];
            }

            var directoryOnly = text.EndsWith('/');
            text = text.TrimEnd('/');
            if (text.Length == 0)
            {
                return null;
            }

            // "foo" matches at any depth; "/foo" and "a/foo" only from the top, as in git.
            var anchored = text.Contains('/', StringComparison.Ordinal);
            text = text.TrimStart('/');
            var regex = new StringBuilder("^");
            if (!anchored && !text.StartsWith("**", StringComparison.Ordinal))
            {
                regex.Append("(?:.*/)?");
            }

            AppendGlob(regex, text);
            regex.Append('$');
            return new Rule(new Regex(regex.ToString(), RegexOptions.CultureInvariant | RegexOptions.Singleline), negated, directoryOnly);
        }

        /// <summary>Trailing spaces are dropped unless escaped with a backslash, as in git.</summary>
        private static string TrimTrailingSpaces(string line)
        {
            var end = line.Length;
            while (end > 0 && line[end - 1] == ' ' && !(end > 1 && line[end - 2] == '\\'))
            {
                end--;
            }

            return line[..end];
        }

        private static void AppendGlob(StringBuilder regex, string glob)
        {
            for (var i = 0; i < glob.Length; i++)
            {
                var c = glob[i];
                switch (c)
                {
                    case '*' when i + 1 < glob.Length && glob[i + 1] == '*':
                        AppendDoubleStar(regex, glob, ref i);
                        break;
                    case '*':
                        regex.Append("[^/]*");
                        break;
                    case '?':
                        regex.Append("[^/]");
                        break;
                    case '[' when i + 2 < glob.Length && glob.IndexOf(']', i + 2) is var close and > 0:
                        AppendClass(regex, glob[(i + 1)..close]);
                        i = close;
                        break;
                    case '\\' when i + 1 < glob.Length:
                        regex.Append(Regex.Escape(glob[++i].ToString()));
                        break;
                    default:
                        regex.Append(Regex.Escape(c.ToString()));
                        break;
                }
            }
        }

        /// <summary>
        /// <c>**/</c> at the start or <c>/**/</c> inside: zero or more whole directories; <c>/**</c> at the end: everything
        /// inside. Any other <c>**</c> is an ordinary <c>*</c>, as git treats it.
        /// </summary>
        private static void AppendDoubleStar(StringBuilder regex, string glob, ref int i)
        {
            var atStart = i == 0 || glob[i - 1] == '/';
            var atEnd = i + 2 == glob.Length;
            var beforeSlash = i + 2 < glob.Length && glob[i + 2] == '/';
            if (atStart && beforeSlash)
            {
                regex.Append("(?:.*/)?");
                i += 2;
            }
            else if (atStart && atEnd)
            {
                regex.Append(".*");
                i += 1;
            }
            else
            {
                regex.Append("[^/]*");
                i += 1;
            }
        }

        private static void AppendClass(StringBuilder regex, string body)
        {
            regex.Append('[');
            var negated = body[0] is '!' or '^';
            if (negated)
            {
                regex.Append('^');
            }

            foreach (var c in body[(negated ? 1 : 0)..])
            {
                // Inside a class only these are special to .NET; '-' keeps its meaning of a range.
                regex.Append(c is '\\' or '[' or ']' or '^' ? "\\" + c : c.ToString());
            }

            // A class, like '*' and '?', never matches the separator.
            regex.Append(negated ? "/]" : "]");
        }
    }
}
