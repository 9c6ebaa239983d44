namespace LogQuota.Runner.Logs.Screen;

/// <summary>The pen: what SGR and OSC 8 set for the characters written next (xterm.js's <c>_curAttrData</c>).</summary>
internal sealed partial class ScreenCommands
{
    private readonly LinkTable _links = new();
    private ulong _pen;

    /// <summary>The OSC 8 targets the cells' styles refer to.</summary>
    public LinkTable Links => _links;

    /// <summary>The style written characters get; both screens draw with it, as xterm.js keeps it across them.</summary>
    public ulong Pen
    {
        get => _pen;
        private set
        {
            _pen = value;
            _normal.Pen = value;
            _alternate?.Pen = value;
        }
    }

    /// <summary>
    /// An OSC string ended (<paramref name="complete"/>: it was not longer than the parser keeps). Only OSC 8 matters
    /// here: <c>8;params;URI</c> starts a link, <c>8;;</c> ends it; a URI the allow-list refuses, or one cut short, ends
    /// it too, so its text stays plain.
    /// </summary>
    public void Osc(ReadOnlySpan<byte> data, bool complete)
    {
        EndString();
        if (data.Length < 2 || data[0] != '8' || data[1] != ';')
        {
            return;
        }

        var rest = data[2..];
        int separator = rest.IndexOf((byte)';');
        var uri = separator < 0 ? [] : rest[(separator + 1)..];
        int link = complete && !uri.IsEmpty ? _links.Intern(uri, LinksInUse) : 0;
        Pen = CellStyle.WithLink(Pen, link);
    }

    /// <summary>The link ids any cell of either screen, the pen or a saved cursor still refers to.</summary>
    private HashSet<int> LinksInUse()
    {
        var used = new HashSet<int> { CellStyle.Link(_pen), CellStyle.Link(_normal.Saved.Pen) };
        if (_alternate is not null)
        {
            used.Add(CellStyle.Link(_alternate.Saved.Pen));
        }

        foreach (var buffer in _alternate is null ? (ReadOnlySpan<ScreenBuffer>)[_normal] : [_normal, _alternate])
        {
            for (int row = 0; row < ScreenBuffer.Rows; row++)
            {
                if (buffer[row].Styles is { } styles)
                {
                    foreach (ulong style in styles)
                    {
                        used.Add(CellStyle.Link(style));
                    }
                }
            }
        }

        return used;
    }
}
