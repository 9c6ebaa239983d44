namespace LogQuota.Runner.Logs.Screen;

/// <summary>One styled stretch of stored text: <see cref="Length"/> bytes from <see cref="Start"/> in one <see cref="CellStyle"/>.</summary>
internal readonly record struct StyleRun(int Start, int Length, ulong Style);

/// <summary>
/// The style runs over a piece of text, in order, never overlapping: cells of the default style make none, so plain
/// text leaves the list empty. Adjacent bytes of one style are one run.
/// </summary>
internal sealed class StyleRuns
{
    private readonly List<StyleRun> _runs = [];

    public int Count => _runs.Count;

    public StyleRun this[int index] => _runs[index];

    public void Clear() => _runs.Clear();

    /// <summary>Adds <paramref name="length"/> bytes at <paramref name="start"/> in <paramref name="style"/>; default-style bytes add nothing.</summary>
    public void Add(int start, int length, ulong style)
    {
        if (style == 0 || length <= 0)
        {
            return;
        }

        if (_runs.Count > 0 && _runs[^1] is var last && last.Style == style && last.Start + last.Length == start)
        {
            _runs[^1] = last with { Length = last.Length + length };
            return;
        }

        _runs.Add(new StyleRun(start, length, style));
    }

    /// <summary>Adds every run of <paramref name="other"/> that lies within <paramref name="from"/>..<paramref name="to"/>, moved by <paramref name="shift"/>.</summary>
    public void AddRange(StyleRuns other, int from, int to, int shift)
    {
        ArgumentNullException.ThrowIfNull(other);
        foreach (var run in other._runs)
        {
            int start = Math.Max(run.Start, from);
            int end = Math.Min(run.Start + run.Length, to);
            Add(start + shift, end - start, run.Style);
        }
    }

    /// <summary>Cuts every run at <paramref name="length"/>: the text was trimmed there.</summary>
    public void Truncate(int length)
    {
        while (_runs.Count > 0 && _runs[^1].Start >= length)
        {
            _runs.RemoveAt(_runs.Count - 1);
        }

        if (_runs.Count > 0 && _runs[^1] is var last && last.Start + last.Length > length)
        {
            _runs[^1] = last with { Length = length - last.Start };
        }
    }

    /// <summary>Removes the first <paramref name="length"/> bytes' runs and moves the rest to the front (a piece was written).</summary>
    public void RemovePrefix(int length)
    {
        var rest = _runs.FindAll(r => r.Start + r.Length > length);
        _runs.Clear();
        foreach (var run in rest)
        {
            int start = Math.Max(run.Start, length);
            Add(start - length, run.Start + run.Length - start, run.Style);
        }
    }
}
