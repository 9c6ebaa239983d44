using System.Text;

namespace LogQuota.Runner.Code;

/// <summary>A code archive is refused; the message names the entry and the rule it broke.</summary>
internal sealed class CodeArchiveException(string message) : Exception(message);

/// <summary>
/// The path rules of a code archive, on names alone: where an entry may go and where a symbolic link may point.
/// Pure, so every rule is tested without a file system; <see cref="CodeTree"/> makes them hold on disk.
/// </summary>
internal static class CodePaths
{
    /// <summary>Most characters of an entry name quoted in a message; the rest is cut.</summary>
    private const int MaxQuoted = 200;

    /// <summary>
    /// The entry's path inside the code directory, as components without <c>.</c> or empty ones; empty for the code
    /// directory itself (<c>./</c>). Throws <see cref="CodeArchiveException"/> for an absolute name, a <c>..</c>
    /// component or a name that was not valid UTF-8.
    /// </summary>
    public static string[] Inside(string name)
    {
        CheckText(name, name, "name");
        if (name.StartsWith('/'))
        {
            throw Refuse(name, "is an absolute path");
        }

        var parts = Components(name);
        if (parts.Contains(".."))
        {
            throw Refuse(name, "leads outside the code directory");
        }

        return parts;
    }

    /// <summary>
    /// Checks the target of a symbolic link at <paramref name="link"/> (its components). The target must be relative,
    /// and may climb with <c>..</c> only at its start and no higher than the link's own directory: the kernel resolves
    /// <c>..</c> on the real tree, so <c>a/..</c> is <c>a</c>'s real parent when <c>a</c> is itself a link, and a
    /// purely textual check of such a target can be led outside. With climbs only first, from a link whose parents
    /// are real directories, every step lands inside; descending through links the archive made lands inside too,
    /// since each of them obeyed this same rule.
    /// </summary>
    public static void CheckSymlinkTarget(string name, string[] link, string target)
    {
        CheckText(name, target, "symlink target");
        if (target.Length == 0)
        {
            throw Refuse(name, "is a symlink with an empty target");
        }

        if (target.StartsWith('/'))
        {
            throw Refuse(name, $"is a symlink to the absolute path {Quote(target)}, which leads outside the code directory");
        }

        var parts = Components(target);
        var climbs = parts.TakeWhile(p => p == "..").Count();
        if (parts.Skip(climbs).Contains(".."))
        {
            throw Refuse(name, $"is a symlink to {Quote(target)}, which has '..' after a name (only leading '..' are allowed)");
        }

        if (climbs > link.Length - 1)
        {
            throw Refuse(name, $"is a symlink to {Quote(target)}, which leads outside the code directory");
        }
    }

    /// <summary>
    /// The components of a hard link's target, which must name a file inside the archive (an archive path, not relative
    /// to the link); whether it is an earlier file of the archive only the tree can tell.
    /// </summary>
    public static string[] HardLinkTarget(string name, string target)
    {
        var parts = Components(target);
        if (target.StartsWith('/') || parts.Length == 0 || parts.Contains(".."))
        {
            throw NotAnEarlierFile(name, target);
        }

        return parts;
    }

    /// <summary>The refusal of hard link <paramref name="name"/> to <paramref name="target"/>.</summary>
    public static CodeArchiveException NotAnEarlierFile(string name, string target) =>
        Refuse(name, $"is a hard link to {Quote(target)}, which is not an earlier file of the archive");

    /// <summary>The refusal of entry <paramref name="name"/> for <paramref name="rule"/>: "code archive entry '../x' leads outside the code directory".</summary>
    public static CodeArchiveException Refuse(string name, string rule) => new($"code archive entry {Quote(name)} {rule}");

    /// <summary>An archive's name in single quotes, control characters escaped, cut at 200 characters.</summary>
    public static string Quote(string text)
    {
        var shortened = text.Length <= MaxQuoted ? text : text[..MaxQuoted] + "…";
        var builder = new StringBuilder(shortened.Length + 2).Append('\'');
        foreach (var c in shortened)
        {
            builder.Append(char.IsControl(c) ? $"\\u{(int)c:x4}" : c);
        }

        return builder.Append('\'').ToString();
    }

    private static string[] Components(string path) =>
        path.Split('/', StringSplitOptions.RemoveEmptyEntries).Where(p => p != ".").ToArray();

    /// <summary>
    /// .NET's tar reader decodes names as UTF-8 and turns every invalid byte into U+FFFD, so a name that holds it was
    /// not valid UTF-8 (or named U+FFFD itself, which no tree made by a person does). NUL cannot be in a file name.
    /// </summary>
    private static void CheckText(string name, string text, string what)
    {
        if (text.Contains('\uFFFD', StringComparison.Ordinal))
        {
            throw Refuse(name, $"has a {what} that is not valid UTF-8");
        }

        if (text.Contains('\0', StringComparison.Ordinal))
        {
            throw Refuse(name, $"has a {what} with a NUL character");
        }
    }
}
