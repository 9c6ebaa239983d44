using System.Buffers;
using System.Diagnostics;
using System.Numerics;
using System.Runtime.Intrinsics;
using System.Text;
using System.Text.Unicode;

namespace LogQuota.Runner.Logs;

/// <summary>
/// Turns the raw bytes a job writes to its terminal into the log text a person would read on the screen
/// (SPEC §2 "Terminal processing"): escape sequences are removed, <c>\r</c>, <c>\b</c> and the horizontal
/// cursor and erase commands edit the current line, and a line is stored when its <c>\n</c> arrives.
/// </summary>
/// <remarks>
/// <para>
/// The processor keeps the unfinished line and any partial escape sequence between calls, so a read may end
/// at any byte. It allocates nothing per call: the line lives in one reusable buffer that never grows past
/// <see cref="MaxLineBytes"/> plus a small slack.
/// </para>
/// <para>
/// The cursor is a byte offset into the line, but it moves by characters, as a terminal moves by cells: one
/// UTF-8 character (or one maximal invalid byte sequence) is one cell, and overwriting <c>n</c> cells replaces
/// <c>n</c> old characters whatever their byte lengths. Without that, a progress bar drawn with <c>█</c>
/// (3 bytes) and redrawn with spaces would leave the old bar's tail in the stored line. A cursor past the end
/// of the line stands on blank cells; writing there pads the line with spaces.
/// </para>
/// <para>
/// Bytes are never interpreted as 8-bit C1 controls: 0x9B is a UTF-8 continuation byte, not a CSI.
/// </para>
/// </remarks>
public sealed class TerminalProcessor
{
    /// <summary>An unfinished line longer than this is stored in pieces of this many bytes (SPEC: 32 KiB).</summary>
    public const int MaxLineBytes = 32 * 1024;

    // An overwrite may replace 1-byte characters with 4-byte ones, so it is applied in pieces of at most this
    // many bytes and the line is trimmed back to MaxLineBytes after each piece. That bounds the buffer.
    private const int OverwritePieceBytes = 1024;
    private const int MaxLineCapacity = MaxLineBytes + OverwritePieceBytes;
    private const int InitialLineCapacity = 256;

    // No CSI this class acts on needs more than a few parameter bytes. A longer one is still removed, but its
    // command is ignored and its parameters are not accumulated, so a flood of digits costs no memory.
    private const int MaxCsiParameterBytes = 32;

    private const byte Esc = 0x1B;
    private const byte Bel = 0x07;
    private const byte Can = 0x18;
    private const byte Sub = 0x1A;

    // Bytes that end a run of plain text in the ground state.
    private static readonly SearchValues<byte> s_controls = SearchValues.Create(Esc, (byte)'\n', (byte)'\r', (byte)'\b', Bel);

    // Bytes that stop a bulk copy of complete lines ("\r" is fine when it is part of "\r\n").
    private static readonly SearchValues<byte> s_lineInterrupts = SearchValues.Create(Esc, (byte)'\r', (byte)'\b', Bel);

    // OSC ends at BEL or ST (ESC \); CAN and SUB abort any string, as ECMA-48 says.
    private static readonly SearchValues<byte> s_oscEnds = SearchValues.Create(Bel, Esc, Can, Sub);
    private static readonly SearchValues<byte> s_stringEnds = SearchValues.Create(Esc, Can, Sub);

    private byte[] _line = new byte[InitialLineCapacity];
    private int _length;
    private int _cursor;

    private ParserState _state;
    private int _csiParameter;
    private int _csiParameterBytes;
    private bool _csiFirstParameterEnded;
    private bool _csiIgnored;

    private enum ParserState : byte
    {
        Ground,
        Escape,
        EscapeIntermediate,
        Csi,
        Osc,
        String,
    }

    /// <summary>A processor whose stale-line rule reads <paramref name="time"/> (the system clock when null).</summary>
    public TerminalProcessor(TimeProvider? time = null)
    {
        _ = time;
    }

    /// <summary>The job has ended: stores everything still held (trailing empty lines dropped).</summary>
    public void Finish(IBufferWriter<byte> output) => Flush(output);

    /// <summary>Stores held lines that have not changed for 30 s (SPEC §2). Called by the runner's timer.</summary>
    public void StoreStale(IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
    }

    /// <summary>Writes the live region's text (lines separated by <c>\n</c>); false when it is empty.</summary>
    public bool WriteLive(IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        return false;
    }

    /// <summary>True while an unfinished line holds at least one byte.</summary>
    public bool HasPendingLine => _length > 0;

    /// <summary>
    /// Processes raw bytes; appends to <paramref name="output"/> every line completed by <c>\n</c> (stored with a
    /// single <c>\n</c> terminator) and, when the unfinished line grows past <see cref="MaxLineBytes"/>, that
    /// line's first <see cref="MaxLineBytes"/> bytes (no <c>\n</c> added).
    /// </summary>
    public void Process(ReadOnlySpan<byte> input, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);

        while (!input.IsEmpty)
        {
            if (_state != ParserState.Ground)
            {
                input = input[ParseSequence(input)..];
                continue;
            }

            int control = input.IndexOfAny(s_controls);
            if (control < 0)
            {
                WriteText(input, output);
                break;
            }

            if (_length == 0 && _cursor == 0 && IsLineEnd(input, control))
            {
                // Plain text up to a line end at column 0: the lines are copied without the line buffer. Checked
                // only here, at a line end, so that a line of colours costs one search per sequence, not three.
                // No control comes before that line end, so at least its line is copied and the loop moves on.
                input = input[CopyCompleteLines(input, output)..];
                continue;
            }

            if (control > 0)
            {
                WriteText(input[..control], output);
            }

            byte b = input[control];
            input = input[(control + 1)..];
            switch (b)
            {
                case (byte)'\n':
                    EmitLine(output);
                    break;
                case (byte)'\r':
                    _cursor = 0;
                    break;
                case (byte)'\b':
                    MoveBack(1);
                    break;
                case Esc:
                    int sequence = SkipCompleteSequence(input);
                    if (sequence > 0)
                    {
                        input = input[sequence..];
                    }
                    else
                    {
                        _state = ParserState.Escape;
                    }

                    break;
                default:
                    // BEL rings on a screen and shows nothing.
                    break;
            }
        }
    }

    private static bool IsLineEnd(ReadOnlySpan<byte> input, int control) =>
        input[control] == '\n' || (input[control] == '\r' && control + 1 < input.Length && input[control + 1] == '\n');

    /// <summary>
    /// Appends the unfinished line (no <c>\n</c> added) and clears it. Used at job exit and when a line stayed
    /// unfinished for 3 s. A partial escape sequence is kept, so one split across the flush is still removed.
    /// </summary>
    public void Flush(IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);

        if (_length > 0)
        {
            Write(output, _line.AsSpan(0, _length));
        }

        _length = 0;
        _cursor = 0;
    }

    /// <summary>
    /// The fast path for plain text: with an empty line and the cursor at column 0, every complete line up to
    /// the next control that needs the line buffer is copied straight to the output in one block ("\r\n" stored
    /// as "\n"). Returns the number of input bytes consumed.
    /// </summary>
    /// <remarks>
    /// A line longer than <see cref="MaxLineBytes"/> inside the block is not cut: cutting it would emit the same
    /// bytes in the same order, just in more pieces.
    /// </remarks>
    private static int CopyCompleteLines(ReadOnlySpan<byte> input, IBufferWriter<byte> output)
    {
        int end = 0;
        int crlfCount = 0;
        while (true)
        {
            int interrupt = input[end..].IndexOfAny(s_lineInterrupts);
            if (interrupt < 0)
            {
                end = input.Length;
                break;
            }

            end += interrupt;
            if (input[end] == '\r' && end + 1 < input.Length && input[end + 1] == '\n')
            {
                crlfCount++;
                end += 2;
                continue;
            }

            break;
        }

        // Every counted "\r\n" lies inside the block, because its '\n' is at or before the last one.
        int lines = input[..end].LastIndexOf((byte)'\n') + 1;
        if (lines == 0)
        {
            return 0;
        }

        ReadOnlySpan<byte> block = input[..lines];
        if (crlfCount == 0)
        {
            Write(output, block);
            return lines;
        }

        int size = lines - crlfCount;
        Span<byte> destination = output.GetSpan(size);
        if (destination.Length < size)
        {
            WriteDroppingCrBeforeLf(block, output);
            return lines;
        }

        int written = 0;
        while (!block.IsEmpty)
        {
            int cr = block.IndexOf((byte)'\r');
            if (cr < 0)
            {
                block.CopyTo(destination[written..]);
                written += block.Length;
                break;
            }

            block[..cr].CopyTo(destination[written..]);
            written += cr;
            block = block[(cr + 1)..];
        }

        Debug.Assert(written == size, "every '\\r' in the block is followed by '\\n'");
        output.Advance(size);
        return lines;
    }

    private static void WriteDroppingCrBeforeLf(ReadOnlySpan<byte> block, IBufferWriter<byte> output)
    {
        while (!block.IsEmpty)
        {
            int cr = block.IndexOf((byte)'\r');
            if (cr < 0)
            {
                Write(output, block);
                return;
            }

            Write(output, block[..cr]);
            block = block[(cr + 1)..];
        }
    }

    /// <summary>Writes plain text (no controls) at the cursor.</summary>
    private void WriteText(ReadOnlySpan<byte> text, IBufferWriter<byte> output)
    {
        while (_cursor < _length && !text.IsEmpty)
        {
            text = text[Overwrite(text)..];
            TrimOverlongLine(output);
        }

        if (text.IsEmpty)
        {
            return;
        }

        if (_cursor > _length)
        {
            // The cursor stands on blank cells (CSI C, CSI G, CSI 2K): they become spaces. _cursor <= MaxLineBytes.
            EnsureCapacity(_cursor);
            _line.AsSpan(_length, _cursor - _length).Fill((byte)' ');
            _length = _cursor;
        }

        Append(text, output);
    }

    /// <summary>The common case: the cursor is at the end of the line and the text is block-copied after it.</summary>
    private void Append(ReadOnlySpan<byte> text, IBufferWriter<byte> output)
    {
        Debug.Assert(_cursor == _length, "append needs the cursor at the end of the line");

        int room = MaxLineBytes - _length;
        if (text.Length > room)
        {
            // The line grows past MaxLineBytes: its first MaxLineBytes bytes are stored as they are, and the
            // rest goes on as a fresh line whose column 0 is the byte after them.
            if (_length > 0)
            {
                Write(output, _line.AsSpan(0, _length), text[..room]);
                text = text[room..];
                _length = 0;
            }

            while (text.Length > MaxLineBytes)
            {
                Write(output, text[..MaxLineBytes]);
                text = text[MaxLineBytes..];
            }
        }

        EnsureCapacity(_length + text.Length);
        text.CopyTo(_line.AsSpan(_length));
        _length += text.Length;
        _cursor = _length;
    }

    /// <summary>
    /// Writes a piece of <paramref name="text"/> over the line from the cursor, replacing as many old characters
    /// as it holds. Returns the number of bytes consumed (at most <see cref="OverwritePieceBytes"/>).
    /// </summary>
    private int Overwrite(ReadOnlySpan<byte> text)
    {
        Debug.Assert(_cursor < _length, "overwrite needs old text under the cursor");

        ReadOnlySpan<byte> piece = text.Length > OverwritePieceBytes ? text[..OverwritePieceBytes] : text;
        int oldAvailable = _length - _cursor;

        // The progress-bar case: ASCII over ASCII, one byte is one cell on both sides.
        if (Ascii.IsValid(piece) && Ascii.IsValid(_line.AsSpan(_cursor, Math.Min(piece.Length, oldAvailable))))
        {
            int newLength = Math.Max(_length, _cursor + piece.Length);
            EnsureCapacity(newLength);
            piece.CopyTo(_line.AsSpan(_cursor));
            _length = newLength;
            _cursor += piece.Length;
            return piece.Length;
        }

        int oldEnd;
        if (Utf8.IsValid(piece) && Utf8.IsValid(_line.AsSpan(_cursor, _length - _cursor)))
        {
            // The progress-bar case with Unicode blocks: valid UTF-8 on both sides, where a cell is a character and
            // every character starts with the one byte that is not a continuation byte.
            oldEnd = _cursor + OffsetOfChar(_line.AsSpan(_cursor, _length - _cursor), CountLeadBytes(piece));
        }
        else
        {
            // Continuation bytes that complete a character whose first bytes came in the previous read are part of
            // the cell already written, so they replace nothing.
            int completing = CountBytesCompletingCharBeforeCursor(piece);
            int cells = CountCells(piece[completing..]);

            oldEnd = _cursor;
            for (int i = 0; i < cells && oldEnd < _length; i++)
            {
                oldEnd += CharLength(_line.AsSpan(oldEnd, _length - oldEnd));
            }
        }

        // Replacing whole old characters leaves no orphaned continuation bytes behind the written text.
        int length = _length - (oldEnd - _cursor) + piece.Length;
        EnsureCapacity(length);
        Span<byte> line = _line;
        line[oldEnd.._length].CopyTo(line[(_cursor + piece.Length)..]);
        piece.CopyTo(line[_cursor..]);
        _length = length;
        _cursor += piece.Length;
        return piece.Length;
    }

    private int CountBytesCompletingCharBeforeCursor(ReadOnlySpan<byte> piece)
    {
        if (_cursor == 0 || !IsContinuation(piece[0]))
        {
            return 0;
        }

        ReadOnlySpan<byte> before = _line.AsSpan(0, _cursor);
        int start = _cursor - PreviousCharLength(before);
        if (Rune.DecodeFromUtf8(before[start..], out _, out _) != OperationStatus.NeedMoreData)
        {
            return 0;
        }

        int missing = SequenceLength(before[start]) - (_cursor - start);
        int count = 0;
        while (count < missing && count < piece.Length && IsContinuation(piece[count]))
        {
            count++;
        }

        return count;
    }

    /// <summary>After an overwrite grew the line past <see cref="MaxLineBytes"/>, stores its first bytes.</summary>
    private void TrimOverlongLine(IBufferWriter<byte> output)
    {
        while (_length > MaxLineBytes)
        {
            Write(output, _line.AsSpan(0, MaxLineBytes));
            _line.AsSpan(MaxLineBytes, _length - MaxLineBytes).CopyTo(_line);
            _length -= MaxLineBytes;
            _cursor = Math.Max(0, _cursor - MaxLineBytes);
        }
    }

    private void EmitLine(IBufferWriter<byte> output)
    {
        Write(output, _line.AsSpan(0, _length), "\n"u8);
        _length = 0;
        _cursor = 0;
    }

    /// <summary>
    /// The fast path for the commonest sequences, a CSI (colours above all) or an OSC (titles, links) that lies whole
    /// in this read: <paramref name="input"/> starts right after the ESC. Acts on the sequence as the byte-wise parser
    /// would and returns its length; returns 0, having changed nothing, for anything else (another escape, a sequence
    /// split across reads or aborted by a control byte), so the byte-wise parser takes it from the ESC.
    /// </summary>
    private int SkipCompleteSequence(ReadOnlySpan<byte> input)
    {
        if (input.Length < 2)
        {
            return 0;
        }

        if (input[0] == ']')
        {
            int end = input[1..].IndexOfAny(s_oscEnds) + 1;
            if (end == 0)
            {
                return 0;
            }

            if (input[end] == Bel)
            {
                return end + 1;
            }

            // ST (ESC \) ends the OSC; CAN, SUB and any other ESC are left to the byte-wise parser.
            return input[end] == Esc && end + 1 < input.Length && input[end + 1] == '\\' ? end + 2 : 0;
        }

        if (input[0] != '[')
        {
            return 0;
        }

        int parameter = 0;
        int parameterBytes = 0;
        bool firstParameterEnded = false;
        bool ignored = false;
        for (int i = 1; i < input.Length; i++)
        {
            byte b = input[i];
            if ((uint)(b - '0') <= 9)
            {
                parameterBytes++;
                if (!firstParameterEnded)
                {
                    parameter = Math.Min((parameter * 10) + (b - '0'), MaxLineBytes);
                }
            }
            else if (b is (byte)';' or (byte)':')
            {
                parameterBytes++;
                firstParameterEnded = true;
            }
            else if (b is (>= 0x3C and <= 0x3F) or (>= 0x20 and <= 0x2F))
            {
                parameterBytes++;
                ignored = true;
            }
            else if (b is >= 0x40 and <= 0x7E)
            {
                // SGR ('m'), most sequences by far, changes nothing in the text.
                if (b != 'm' && !ignored && parameterBytes <= MaxCsiParameterBytes)
                {
                    ExecuteCsi(b, parameter);
                }

                return i + 1;
            }
            else
            {
                return 0;
            }
        }

        return 0;
    }

    /// <summary>
    /// Consumes bytes of an escape sequence until it ends (state back to ground) or the input ends.
    /// Returns the number of bytes consumed; a byte that cannot continue the sequence aborts it and is left
    /// unconsumed, to be processed as text.
    /// </summary>
    private int ParseSequence(ReadOnlySpan<byte> input)
    {
        int i = 0;
        while (i < input.Length && _state != ParserState.Ground)
        {
            if (_state is ParserState.Osc or ParserState.String)
            {
                int end = input[i..].IndexOfAny(_state == ParserState.Osc ? s_oscEnds : s_stringEnds);
                if (end < 0)
                {
                    return input.Length;
                }

                i += end;
                switch (input[i])
                {
                    case Esc:
                        // ST is ESC \ (a complete two-byte escape). Any other ESC ends the string and starts
                        // a new sequence, as on a terminal.
                        _state = ParserState.Escape;
                        i++;
                        break;
                    case Bel:
                        _state = ParserState.Ground;
                        i++;
                        break;
                    default:
                        _state = ParserState.Ground;
                        break;
                }

                continue;
            }

            if (!Step(input[i]))
            {
                return i;
            }

            i++;
        }

        return i;
    }

    /// <summary>Feeds one byte to the escape parser; false when the byte aborts the sequence instead.</summary>
    private bool Step(byte b)
    {
        switch (_state)
        {
            case ParserState.Escape:
                switch (b)
                {
                    case (byte)'[':
                        _csiParameter = 0;
                        _csiParameterBytes = 0;
                        _csiFirstParameterEnded = false;
                        _csiIgnored = false;
                        _state = ParserState.Csi;
                        return true;
                    case (byte)']':
                        _state = ParserState.Osc;
                        return true;
                    case (byte)'P' or (byte)'X' or (byte)'^' or (byte)'_':
                        // DCS, SOS, PM and APC: strings up to ST.
                        _state = ParserState.String;
                        return true;
                    case Esc:
                        return true;
                    case >= 0x20 and <= 0x2F:
                        _state = ParserState.EscapeIntermediate;
                        return true;
                    case >= 0x30 and <= 0x7E:
                        // A two-byte escape: Fp (ESC 7, ESC =), Fe (ESC M, ESC \) or Fs (ESC c).
                        _state = ParserState.Ground;
                        return true;
                    default:
                        _state = ParserState.Ground;
                        return false;
                }

            case ParserState.EscapeIntermediate:
                switch (b)
                {
                    case >= 0x20 and <= 0x2F:
                        return true;
                    case >= 0x30 and <= 0x7E:
                        // ESC ( B and friends.
                        _state = ParserState.Ground;
                        return true;
                    case Esc:
                        _state = ParserState.Escape;
                        return true;
                    default:
                        _state = ParserState.Ground;
                        return false;
                }

            case ParserState.Csi:
                return StepCsi(b);

            default:
                throw new UnreachableException($"byte-wise step in state {_state}");
        }
    }

    private bool StepCsi(byte b)
    {
        switch (b)
        {
            case >= (byte)'0' and <= (byte)'9':
                CountCsiParameterByte();
                if (!_csiFirstParameterEnded)
                {
                    _csiParameter = Math.Min((_csiParameter * 10) + (b - '0'), MaxLineBytes);
                }

                return true;
            case (byte)';' or (byte)':':
                CountCsiParameterByte();
                _csiFirstParameterEnded = true;
                return true;
            case >= 0x3C and <= 0x3F:
            case >= 0x20 and <= 0x2F:
                // A private marker (< = > ?) or an intermediate: a command this class does not act on.
                CountCsiParameterByte();
                _csiIgnored = true;
                return true;
            case >= 0x40 and <= 0x7E:
                _state = ParserState.Ground;
                if (!_csiIgnored)
                {
                    ExecuteCsi(b, _csiParameter);
                }

                return true;
            case Esc:
                _state = ParserState.Escape;
                return true;
            default:
                _state = ParserState.Ground;
                return false;
        }
    }

    private void CountCsiParameterByte()
    {
        if (++_csiParameterBytes > MaxCsiParameterBytes)
        {
            _csiIgnored = true;
        }
    }

    /// <summary>Acts on the CSI commands that edit the current line; every other CSI is just removed.</summary>
    private void ExecuteCsi(byte command, int parameter)
    {
        switch (command)
        {
            case (byte)'K':
                EraseInLine(parameter);
                break;
            case (byte)'D':
                MoveBack(Math.Max(parameter, 1));
                break;
            case (byte)'C' or (byte)'a':
                // CUF and HPR.
                MoveForward(Math.Max(parameter, 1));
                break;
            case (byte)'G' or (byte)'`':
                // CHA and HPA; the column is 1-based.
                _cursor = 0;
                MoveForward(Math.Max(parameter, 1) - 1);
                break;
            default:
                break;
        }
    }

    private void EraseInLine(int mode)
    {
        switch (mode)
        {
            case 0:
                _length = Math.Min(_length, _cursor);
                break;
            case 1:
                EraseToCursor();
                break;
            case 2:
                int cells = CountCells(_line.AsSpan(0, Math.Min(_cursor, _length))) + Math.Max(0, _cursor - _length);
                _length = 0;
                _cursor = cells;
                break;
            default:
                break;
        }
    }

    /// <summary>CSI 1K: every cell from column 0 to the cursor, inclusive, becomes one space.</summary>
    private void EraseToCursor()
    {
        Span<byte> line = _line;
        int end = _cursor < _length ? _cursor + CharLength(line[_cursor.._length]) : _length;
        int cells = CountCells(line[..end]);
        int cursorCell = _cursor < _length ? cells - 1 : cells + (_cursor - _length);

        // Each erased character becomes a one-byte space, so the rest of the line moves left (never right).
        line[end.._length].CopyTo(line[cells..]);
        line[..cells].Fill((byte)' ');
        _length = _length - end + cells;
        _cursor = cursorCell;
    }

    private void MoveBack(int cells)
    {
        while (cells > 0 && _cursor > 0)
        {
            if (_cursor > _length)
            {
                int blanks = Math.Min(cells, _cursor - _length);
                _cursor -= blanks;
                cells -= blanks;
                continue;
            }

            _cursor -= PreviousCharLength(_line.AsSpan(0, _cursor));
            cells--;
        }
    }

    private void MoveForward(int cells)
    {
        while (cells > 0 && _cursor < _length)
        {
            _cursor += CharLength(_line.AsSpan(_cursor, _length - _cursor));
            cells--;
        }

        // Beyond the text the cursor moves over blank cells; it stops at MaxLineBytes so that "CSI 9999 C"
        // cannot make the next write pad the line with more than one piece's worth of spaces.
        _cursor = (int)Math.Min(MaxLineBytes, (long)_cursor + cells);
    }

    private void EnsureCapacity(int size)
    {
        if (size <= _line.Length)
        {
            return;
        }

        Debug.Assert(size <= MaxLineCapacity, "the line is trimmed to MaxLineBytes after every piece");
        int capacity = Math.Max(size, Math.Min(_line.Length * 2, MaxLineCapacity));
        var line = new byte[capacity];
        _line.AsSpan(0, _length).CopyTo(line);
        _line = line;
    }

    /// <summary>Byte length of the character that starts <paramref name="text"/> (non-empty).</summary>
    private static int CharLength(ReadOnlySpan<byte> text)
    {
        if (text[0] < 0x80)
        {
            return 1;
        }

        // Invalid data: the maximal invalid subsequence is one cell. Need more data: the line ends inside a
        // character whose remaining bytes have not arrived yet; what is there is one cell.
        Rune.DecodeFromUtf8(text, out _, out int length);
        return length;
    }

    /// <summary>Byte length of the character that ends <paramref name="text"/> (non-empty).</summary>
    private static int PreviousCharLength(ReadOnlySpan<byte> text)
    {
        if (text[^1] < 0x80)
        {
            return 1;
        }

        Rune.DecodeLastFromUtf8(text, out _, out int length);
        return length;
    }

    private static int CountCells(ReadOnlySpan<byte> text)
    {
        int cells = 0;
        int i = 0;
        while (i < text.Length)
        {
            i += text[i] < 0x80 ? 1 : CharLength(text[i..]);
            cells++;
        }

        return cells;
    }

    private static bool IsContinuation(byte b) => (b & 0xC0) == 0x80;

    /// <summary>Characters in valid UTF-8 <paramref name="text"/>: the bytes that are not continuation bytes.</summary>
    private static int CountLeadBytes(ReadOnlySpan<byte> text)
    {
        // Vectorized: a redraw of a bar of Unicode blocks mixes 1- and 3-byte characters, so a byte-wise branch
        // mispredicts on about every character.
        int count = 0;
        int i = 0;
        for (; i <= text.Length - Vector128<byte>.Count; i += Vector128<byte>.Count)
        {
            count += BitOperations.PopCount(LeadByteMask(Vector128.Create(text[i..])));
        }

        for (; i < text.Length; i++)
        {
            count += IsContinuation(text[i]) ? 0 : 1;
        }

        return count;
    }

    /// <summary>Byte offset of character number <paramref name="index"/> in valid UTF-8 <paramref name="text"/>, or its length if there are fewer.</summary>
    private static int OffsetOfChar(ReadOnlySpan<byte> text, int index)
    {
        int i = 0;
        for (; i <= text.Length - Vector128<byte>.Count; i += Vector128<byte>.Count)
        {
            uint leads = LeadByteMask(Vector128.Create(text[i..]));
            int count = BitOperations.PopCount(leads);
            if (index < count)
            {
                for (; index > 0; index--)
                {
                    leads &= leads - 1;
                }

                return i + BitOperations.TrailingZeroCount(leads);
            }

            index -= count;
        }

        for (; i < text.Length; i++)
        {
            if (!IsContinuation(text[i]) && index-- == 0)
            {
                return i;
            }
        }

        return text.Length;
    }

    /// <summary>One bit per byte of <paramref name="bytes"/>, set for a byte that is not a continuation byte (0x80–0xBF, below -64 as sbyte).</summary>
    private static uint LeadByteMask(Vector128<byte> bytes) =>
        Vector128.GreaterThanOrEqual(bytes.AsSByte(), Vector128.Create((sbyte)-64)).ExtractMostSignificantBits();

    private static int SequenceLength(byte lead) => lead switch
    {
        >= 0xF0 => 4,
        >= 0xE0 => 3,
        _ => 2,
    };

    private static void Write(IBufferWriter<byte> output, ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            Span<byte> destination = output.GetSpan(data.Length);
            int count = Math.Min(destination.Length, data.Length);
            data[..count].CopyTo(destination);
            output.Advance(count);
            data = data[count..];
        }
    }

    private static void Write(IBufferWriter<byte> output, ReadOnlySpan<byte> first, ReadOnlySpan<byte> second)
    {
        int size = first.Length + second.Length;
        Span<byte> destination = output.GetSpan(size);
        if (destination.Length < size)
        {
            Write(output, first);
            Write(output, second);
            return;
        }

        first.CopyTo(destination);
        second.CopyTo(destination[first.Length..]);
        output.Advance(size);
    }
}
