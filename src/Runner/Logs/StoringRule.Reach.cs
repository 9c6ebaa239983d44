using LogQuota.Runner.Logs.Screen;

namespace LogQuota.Runner.Logs;

/// <summary>
/// The program's reach: how far above the cursor it may still redraw, measured by where its cursor has been. Fed by
/// <see cref="ScreenCommands"/> through <see cref="IRedrawListener"/>; every event that may take a line out of reach
/// applies the rule at once.
/// </summary>
internal sealed partial class StoringRule
{
    private const int ReachMargin = 2;

    private bool _redrawing;
    private bool _cursorHidden;
    private int _furthestUp;
    private int _lineFeedsSinceRedraw;

    // Rows are counted from the start of the scrollback here, so that they stay put while the screen scrolls.
    private long _lowest;
    private long _blockTop = -1;
    private long _blockBottom = -1;

    /// <summary>True when lines are stored as their <c>\n</c> arrives.</summary>
    public bool IsLinear => !_redrawing && !_cursorHidden;

    public void Moved(int from, int to, bool stepwise)
    {
        _redrawing = true;
        _lineFeedsSinceRedraw = 0;
        long above = Math.Min(Absolute(from), Absolute(to));
        _lowest = Math.Max(_lowest, Math.Max(Absolute(from), Absolute(to)));
        _furthestUp = (int)Math.Max(_furthestUp, Math.Min(Rows, _lowest - above));
        if (stepwise && to < from)
        {
            // A walk up one row at a time, or a line added below a block and walked back to: the block grows.
            if (_blockTop >= 0 && above >= _blockTop - 1 && above <= _blockBottom + 1)
            {
                _blockTop = Math.Min(_blockTop, above);
                _blockBottom = Math.Max(_blockBottom, above);
            }
            else
            {
                _blockTop = _blockBottom = above;
            }
        }

        StoreOutOfReach();
    }

    public void ScrolledDown()
    {
        _redrawing = true;
        _lineFeedsSinceRedraw = 0;
        _furthestUp = Math.Max(_furthestUp, 1);
    }

    public void TextAfterCarriageReturn()
    {
        _redrawing = true;
        _lineFeedsSinceRedraw = 0;
    }

    public void LineFed()
    {
        if (_redrawing && ++_lineFeedsSinceRedraw > Rows)
        {
            _redrawing = false;
            _furthestUp = 0;
            _blockTop = _blockBottom = -1;
        }

        _lowest = Math.Max(_lowest, Absolute(screen.Y));
        StoreOutOfReach();
    }

    /// <summary>A program that erases the whole screen draws at places on it, as a dashboard does: it holds the screen.</summary>
    public void ScreenErased()
    {
        _redrawing = true;
        _lineFeedsSinceRedraw = 0;
        _furthestUp = Rows;
    }

    /// <summary>
    /// <c>clear</c> (CSI H, CSI 2J, CSI 3J): the program starts afresh on a blank terminal, with nothing of its own left to
    /// redraw, so its next lines are stored as they end, as a new program's are. What was stored stays stored.
    /// </summary>
    public void HistoryErased()
    {
        _redrawing = false;
        _furthestUp = 0;
        _lineFeedsSinceRedraw = 0;
        _blockTop = _blockBottom = -1;
    }

    public void CursorHidden(bool hidden)
    {
        _cursorHidden = hidden;
        StoreOutOfReach();
    }

    private int Reach()
    {
        if (_cursorHidden)
        {
            return Rows;
        }

        if (!_redrawing)
        {
            return 0;
        }

        // The block counts while the cursor is at it or just below it, where a program adding lines to it stands.
        long cursor = Absolute(screen.Y);
        int block = _blockTop >= 0 && cursor - _blockBottom <= ReachMargin ? (int)Math.Min(Rows, cursor - _blockTop) : 0;
        return Math.Max(_furthestUp, block) + ReachMargin;
    }

    private long Absolute(int row) => row + screen.ScrollbackLength;
}
