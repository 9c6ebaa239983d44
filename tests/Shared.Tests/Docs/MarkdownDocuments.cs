using System.Text;
using System.Text.RegularExpressions;

namespace LogQuota.Shared.Tests.Docs;

/// <summary>
/// Reads the repository's Markdown documents the way a reader on GitHub follows them: relative links to files and
/// to headings (<c>#anchor</c>, GitHub's slugs), and text that points at things a reader of the repository cannot see.
/// </summary>
public static partial class MarkdownDocuments
{
    private static readonly string[] SkippedDirectories = ["bin", "obj", "node_modules", ".git", "TestResults"];

    /// <summary>The repository's root: the directory above the test assembly that holds <c>LogQuota.sln</c>.</summary>
    public static string RepositoryRoot()
    {
        var dir = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(dir, "LogQuota.sln")))
        {
            dir = Path.GetDirectoryName(dir) ?? throw new InvalidOperationException("LogQuota.sln not found above the test assembly");
        }

        return dir;
    }

    /// <summary>Every <c>*.md</c> below <paramref name="root"/>, build output and packages left out.</summary>
    public static IReadOnlyList<string> Find(string root) =>
        [.. Directory.EnumerateFiles(root, "*.md", SearchOption.AllDirectories)
            .Where(path => !Path.GetRelativePath(root, path).Split(Path.DirectorySeparatorChar).Any(SkippedDirectories.Contains))
            .Order(StringComparer.Ordinal)];

    /// <summary>One line per relative link in <paramref name="file"/> whose file or heading does not exist.</summary>
    public static IEnumerable<string> BrokenLinks(string root, string file)
    {
        var lines = File.ReadAllLines(file);
        var inCode = OutsideCodeBlocks(lines);
        for (var i = 0; i < lines.Length; i++)
        {
            if (inCode[i])
            {
                continue;
            }

            foreach (Match link in LinkPattern().Matches(WithoutCodeSpans(lines[i])))
            {
                var target = link.Groups["target"].Value;
                if (SchemePattern().IsMatch(target) || target.StartsWith("//", StringComparison.Ordinal))
                {
                    continue;
                }

                if (Problem(root, file, target) is { } problem)
                {
                    yield return $"{Path.GetRelativePath(root, file)}:{i + 1}: ({target}) {problem}";
                }
            }
        }
    }

    /// <summary>One line per place in <paramref name="file"/> that refers to something outside the repository.</summary>
    public static IEnumerable<string> OutsideReferences(string root, string file)
    {
        var lines = File.ReadAllLines(file);
        for (var i = 0; i < lines.Length; i++)
        {
            foreach (var (pattern, what) in OutsidePatterns)
            {
                if (pattern.Match(lines[i]) is { Success: true } match)
                {
                    yield return $"{Path.GetRelativePath(root, file)}:{i + 1}: '{match.Value}' ({what})";
                }
            }
        }
    }

    /// <summary>The anchors GitHub gives the headings of a Markdown file: lower case, punctuation dropped, spaces as hyphens, repeats numbered.</summary>
    public static IReadOnlySet<string> Anchors(string file)
    {
        var lines = File.ReadAllLines(file);
        var inCode = OutsideCodeBlocks(lines);
        var anchors = new HashSet<string>(StringComparer.Ordinal);
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < lines.Length; i++)
        {
            if (inCode[i] || HeadingPattern().Match(lines[i]) is not { Success: true } heading)
            {
                continue;
            }

            var slug = Slug(heading.Groups["text"].Value);
            var count = seen.GetValueOrDefault(slug);
            seen[slug] = count + 1;
            anchors.Add(count == 0 ? slug : $"{slug}-{count}");
        }

        return anchors;
    }

    /// <summary>GitHub's slug of a heading's text.</summary>
    public static string Slug(string heading)
    {
        var text = LinkPattern().Replace(heading, match => match.Groups["text"].Value).ToLowerInvariant();
        var slug = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            if (char.IsLetterOrDigit(c) || c is '-' or '_')
            {
                slug.Append(c);
            }
            else if (c == ' ')
            {
                slug.Append('-');
            }
        }

        return slug.ToString();
    }

    private static string? Problem(string root, string file, string target)
    {
        var hash = target.IndexOf('#', StringComparison.Ordinal);
        var path = Uri.UnescapeDataString(hash < 0 ? target : target[..hash]);
        var anchor = hash < 0 ? null : target[(hash + 1)..];
        var resolved = path.Length == 0 ? file
            : path.StartsWith('/') ? Path.GetFullPath(Path.Combine(root, path.TrimStart('/')))
            : Path.GetFullPath(Path.Combine(Path.GetDirectoryName(file)!, path));
        if (!File.Exists(resolved) && !Directory.Exists(resolved))
        {
            return "no such file or directory";
        }

        if (anchor is null || !resolved.EndsWith(".md", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        return Anchors(resolved).Contains(anchor) ? null : $"no heading with the anchor #{anchor}";
    }

    /// <summary>True for each line inside a fenced code block (its fences included).</summary>
    private static bool[] OutsideCodeBlocks(string[] lines)
    {
        var inside = new bool[lines.Length];
        string? fence = null;
        for (var i = 0; i < lines.Length; i++)
        {
            var trimmed = lines[i].TrimStart();
            if (fence is null && (trimmed.StartsWith("```", StringComparison.Ordinal) || trimmed.StartsWith("~~~", StringComparison.Ordinal)))
            {
                fence = trimmed[..3];
                inside[i] = true;
            }
            else if (fence is not null)
            {
                inside[i] = true;
                if (trimmed.StartsWith(fence, StringComparison.Ordinal))
                {
                    fence = null;
                }
            }
        }

        return inside;
    }

    private static string WithoutCodeSpans(string line) => CodeSpanPattern().Replace(line, "");

    // A path, a machine or a document of ours that a reader of the repository has no access to. Chosen against the
    // repository's own text: "SPEC" in capitals only ever named the product contract; an issue is "issue 14",
    // "issue #17" or "#17" after a space or parenthesis (a C# or URL fragment is not).
    private static readonly (Regex Pattern, string What)[] OutsidePatterns =
    [
        (new Regex(@"/work/", RegexOptions.CultureInvariant), "an absolute path of the machine it was written on"),
        (new Regex(@"shared folder", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant), "a folder outside the repository"),
        (new Regex(@"\bSPEC\b", RegexOptions.CultureInvariant), "a specification that is not in the repository"),
        (new Regex(@"\bissues? #?\d+", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant), "an issue number"),
        (new Regex(@"(?<=^|[\s(\[])#\d+\b(?![\w-])", RegexOptions.CultureInvariant), "an issue number"),
        (new Regex(@"\b(?:this|our) \d+-core machine|\bdevelopment machine\b", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant), "a machine of ours"),
    ];

    [GeneratedRegex(@"!?\[(?<text>(?:[^\[\]]|\[[^\]]*\])*)\]\(\s*<?(?<target>[^)\s>]+)>?(?:\s+""[^""]*"")?\s*\)")]
    private static partial Regex LinkPattern();

    [GeneratedRegex(@"^[A-Za-z][A-Za-z0-9+.-]*:")]
    private static partial Regex SchemePattern();

    [GeneratedRegex(@"^ {0,3}#{1,6}\s+(?<text>.*?)\s*#*\s*$")]
    private static partial Regex HeadingPattern();

    [GeneratedRegex(@"(`+)(?:(?!\1).)+?\1")]
    private static partial Regex CodeSpanPattern();
}
