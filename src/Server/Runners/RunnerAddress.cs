using System.Text;
using LogQuota.Shared.Contracts;

namespace LogQuota.Server.Runners;

/// <summary>A runner's base URL as the server stores and calls it, and the name made from it when none is given.</summary>
public static class RunnerAddress
{
    /// <summary>Reads an http(s) base URL without query or fragment, as <c>http://host:port/path/</c> (one trailing slash).</summary>
    public static bool TryParse(string? text, out Uri url)
    {
        url = null!;
        if (!Uri.TryCreate(text?.Trim(), UriKind.Absolute, out var uri) ||
            (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps) ||
            !string.IsNullOrEmpty(uri.Query) || !string.IsNullOrEmpty(uri.Fragment) || !string.IsNullOrEmpty(uri.UserInfo))
        {
            return false;
        }

        url = new Uri(uri.GetLeftPart(UriPartial.Path).TrimEnd('/') + "/");
        return true;
    }

    /// <summary>
    /// A name for the runner at <paramref name="url"/>: its host and port in the run names' alphabet
    /// (<c>http://10.0.0.5:10999</c> is <c>runner-10-0-0-5-10999</c>, <c>http://gpu-a:10999</c> is <c>gpu-a-10999</c>).
    /// </summary>
    public static string NameFrom(Uri url)
    {
        ArgumentNullException.ThrowIfNull(url);
        var name = new StringBuilder();
        foreach (var c in $"{url.Host.ToLowerInvariant()}-{url.Port}")
        {
            var keep = char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c);
            if (keep || (name.Length > 0 && name[^1] != '-'))
            {
                name.Append(keep ? c : '-');
            }
        }

        var text = name.ToString();
        if (text.Length == 0 || !char.IsAsciiLetterLower(text[0]))
        {
            text = "runner-" + text;
        }

        text = text.Length > 41 ? text[..41] : text;
        return JobSpecRules.IsValidRunName(text.TrimEnd('-')) ? text.TrimEnd('-') : "runner";
    }

    /// <summary><paramref name="name"/>, or with <c>-2</c>, <c>-3</c>… when it is taken, kept within 41 characters.</summary>
    public static string Unique(string name, ICollection<string> taken)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(taken);
        for (var i = 2; taken.Contains(name) || name == Runners.RunnerPool.LocalName; i++)
        {
            var suffix = $"-{i}";
            name = (name.Length + suffix.Length > 41 ? name[..(41 - suffix.Length)] : name).TrimEnd('-') + suffix;
        }

        return name;
    }
}
