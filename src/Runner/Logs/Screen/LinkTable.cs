using System.Text;

namespace LogQuota.Runner.Logs.Screen;

/// <summary>
/// The OSC 8 hyperlinks of one job's screen: each URI that passes the scheme allow-list gets a small id that cells
/// carry in their style (<see cref="CellStyle.Link"/>). At most 255 links are known at once; when a new one finds no
/// room, the ids no cell on either screen uses any more are freed first (<see cref="Compact"/>).
/// </summary>
internal sealed class LinkTable
{
    /// <summary>Longest URI kept; a longer one is refused (the text stays, unlinked).</summary>
    public const int MaxUriBytes = 2048;

    private const int Capacity = 255;

    private static readonly string[] AllowedSchemes = ["http", "https", "mailto"];

    private readonly string?[] _uris = new string?[Capacity + 1];
    private readonly Dictionary<string, int> _ids = new(StringComparer.Ordinal);

    /// <summary>The URI of <paramref name="id"/>; null for 0 or a freed id.</summary>
    public string? Uri(int id) => id is > 0 and <= Capacity ? _uris[id] : null;

    /// <summary>
    /// The id of an OSC 8 target, or 0 when it is refused: not printable ASCII, too long, or a scheme outside the
    /// allow-list (http, https, mailto), so a log can never carry a <c>javascript:</c> or <c>file:</c> link.
    /// </summary>
    public int Intern(ReadOnlySpan<byte> uri, Func<HashSet<int>> inUse)
    {
        if (!IsAllowed(uri))
        {
            return 0;
        }

        var text = Encoding.ASCII.GetString(uri);
        if (_ids.TryGetValue(text, out int id))
        {
            return id;
        }

        id = FreeId();
        if (id == 0)
        {
            Compact(inUse());
            id = FreeId();
            if (id == 0)
            {
                return 0;
            }
        }

        _uris[id] = text;
        _ids[text] = id;
        return id;
    }

    /// <summary>True for printable ASCII (no space) of at most <see cref="MaxUriBytes"/> with an allowed scheme.</summary>
    public static bool IsAllowed(ReadOnlySpan<byte> uri)
    {
        if (uri.IsEmpty || uri.Length > MaxUriBytes || uri.IndexOfAnyExceptInRange((byte)0x21, (byte)0x7E) >= 0)
        {
            return false;
        }

        int colon = uri.IndexOf((byte)':');
        if (colon <= 0)
        {
            return false;
        }

        foreach (var scheme in AllowedSchemes)
        {
            if (Ascii.EqualsIgnoreCase(uri[..colon], scheme))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Frees every id not in <paramref name="inUse"/>.</summary>
    public void Compact(HashSet<int> inUse)
    {
        ArgumentNullException.ThrowIfNull(inUse);
        for (int id = 1; id <= Capacity; id++)
        {
            if (_uris[id] is { } uri && !inUse.Contains(id))
            {
                _ids.Remove(uri);
                _uris[id] = null;
            }
        }
    }

    private int FreeId()
    {
        for (int id = 1; id <= Capacity; id++)
        {
            if (_uris[id] is null)
            {
                return id;
            }
        }

        return 0;
    }
}
