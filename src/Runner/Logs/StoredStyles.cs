using LogQuota.Runner.Logs.Screen;

namespace LogQuota.Runner.Logs;

/// <summary>One styled stretch of stored text: <see cref="Length"/> bytes from <see cref="Start"/>, its SGR style and its link.</summary>
/// <param name="Start">The first byte, counted from the start of the text stored in the same call.</param>
/// <param name="Length">Bytes of the stretch; never crosses a line's end.</param>
/// <param name="Sgr">The SGR parameters that set the style from the default (e.g. <c>1;31</c>); empty for a link alone.</param>
/// <param name="Link">The OSC 8 target, or null.</param>
public readonly record struct StoredRun(int Start, int Length, string Sgr, string? Link);

/// <summary>
/// The style runs of the text one call of <see cref="TerminalProcessor"/> stored: metadata beside the text, never part
/// of it, so the text (what the quota counts) is the same with or without them. Empty for plain output.
/// </summary>
internal sealed class StoredStyles(LinkTable links)
{
    /// <summary>SGR texts already made, so a job's few styles cost a string each once; cleared past this many.</summary>
    private const int MaxCachedStyles = 4096;

    private readonly List<StoredRun> _runs = [];
    private readonly Dictionary<ulong, string> _sgr = [];

    public IReadOnlyList<StoredRun> Runs => _runs;

    public void Clear() => _runs.Clear();

    /// <summary>Adds the runs of a line stored at <paramref name="offset"/>, cut at its <paramref name="length"/>.</summary>
    public void Add(StyleRuns runs, int offset, int length)
    {
        ArgumentNullException.ThrowIfNull(runs);
        for (int i = 0; i < runs.Count; i++)
        {
            var run = runs[i];
            int end = Math.Min(run.Start + run.Length, length);
            if (end <= run.Start)
            {
                break;
            }

            _runs.Add(new StoredRun(offset + run.Start, end - run.Start, Sgr(CellStyle.Colours(run.Style)), links.Uri(CellStyle.Link(run.Style))));
        }
    }

    private string Sgr(ulong colours)
    {
        if (!_sgr.TryGetValue(colours, out var sgr))
        {
            if (_sgr.Count >= MaxCachedStyles)
            {
                _sgr.Clear();
            }

            sgr = CellStyle.Sgr(colours);
            _sgr[colours] = sgr;
        }

        return sgr;
    }
}
