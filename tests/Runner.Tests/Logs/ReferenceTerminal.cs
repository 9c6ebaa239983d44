using System.Buffers;
using System.Text;
using LogQuota.Runner.Logs;

namespace LogQuota.Runner.Tests.Logs;

/// <summary>
/// A slow, plain model of <see cref="TerminalProcessor"/> for differential tests: the escape parser is a byte-wise state
/// machine, the line is a <see cref="List{T}"/>, and there are no bulk copies, searches or fast paths. Text between two
/// controls of one read is written as one piece, as the processor does: how a piece replaces old characters (cell for
/// cell) is what SPEC §2 asks, and a piece is the unit in which that is defined for invalid UTF-8.
/// </summary>
internal sealed class ReferenceTerminal
{
    private const int Max = TerminalProcessor.MaxLineBytes;
    private const int PieceBytes = 1024;

    private readonly List<byte> _line = [];
    private readonly List<byte> _text = [];
    private readonly List<byte> _output = [];
    private int _cursor;
    private State _state;
    private int _parameter;
    private int _parameterBytes;
    private bool _firstParameterEnded;
    private bool _ignored;

    private enum State
    {
        Ground,
        Escape,
        EscapeIntermediate,
        Csi,
        Osc,
        String,
    }

    public bool HasPendingLine => _line.Count > 0;

    /// <summary>Everything stored so far.</summary>
    public byte[] Output => [.. _output];

    public void Process(ReadOnlySpan<byte> read)
    {
        foreach (byte b in read)
        {
            Feed(b);
        }

        WritePendingText();
    }

    public void Flush()
    {
        WritePendingText();
        _output.AddRange(_line);
        _line.Clear();
        _cursor = 0;
    }

    private void Feed(byte b)
    {
        while (!Step(b))
        {
            // The byte aborted a sequence and is taken again in the ground state.
        }
    }

    /// <summary>False when <paramref name="b"/> aborted a sequence and must be fed again.</summary>
    private bool Step(byte b)
    {
        switch (_state)
        {
            case State.Ground:
                Ground(b);
                return true;
            case State.Escape:
                if (b == '[')
                {
                    (_parameter, _parameterBytes, _firstParameterEnded, _ignored) = (0, 0, false, false);
                    _state = State.Csi;
                }
                else if (b == ']')
                {
                    _state = State.Osc;
                }
                else if (b is (byte)'P' or (byte)'X' or (byte)'^' or (byte)'_')
                {
                    _state = State.String;
                }
                else if (b == 0x1B)
                {
                }
                else if (b is >= 0x20 and <= 0x2F)
                {
                    _state = State.EscapeIntermediate;
                }
                else if (b is >= 0x30 and <= 0x7E)
                {
                    _state = State.Ground;
                }
                else
                {
                    _state = State.Ground;
                    return false;
                }

                return true;
            case State.EscapeIntermediate:
                if (b is >= 0x20 and <= 0x2F)
                {
                }
                else if (b is >= 0x30 and <= 0x7E)
                {
                    _state = State.Ground;
                }
                else if (b == 0x1B)
                {
                    _state = State.Escape;
                }
                else
                {
                    _state = State.Ground;
                    return false;
                }

                return true;
            case State.Csi:
                return Csi(b);
            default:
                // OSC ends at BEL; both string kinds end with ESC (ST or a new sequence) and are aborted by CAN/SUB.
                if (b == 0x07 && _state == State.Osc)
                {
                    _state = State.Ground;
                }
                else if (b == 0x1B)
                {
                    _state = State.Escape;
                }
                else if (b is 0x18 or 0x1A)
                {
                    _state = State.Ground;
                    return false;
                }

                return true;
        }
    }

    private bool Csi(byte b)
    {
        if (b is >= (byte)'0' and <= (byte)'9')
        {
            _parameterBytes++;
            if (!_firstParameterEnded)
            {
                _parameter = Math.Min((_parameter * 10) + (b - '0'), Max);
            }
        }
        else if (b is (byte)';' or (byte)':')
        {
            _parameterBytes++;
            _firstParameterEnded = true;
        }
        else if (b is (>= 0x3C and <= 0x3F) or (>= 0x20 and <= 0x2F))
        {
            _parameterBytes++;
            _ignored = true;
        }
        else if (b is >= 0x40 and <= 0x7E)
        {
            _state = State.Ground;
            if (!_ignored && _parameterBytes <= 32)
            {
                Execute(b, _parameter);
            }
        }
        else if (b == 0x1B)
        {
            _state = State.Escape;
        }
        else
        {
            _state = State.Ground;
            return false;
        }

        return true;
    }

    private void Ground(byte b)
    {
        if (b is not ((byte)'\n' or (byte)'\r' or (byte)'\b' or 0x1B or 0x07))
        {
            _text.Add(b);
            return;
        }

        WritePendingText();
        switch (b)
        {
            case (byte)'\n':
                _output.AddRange(_line);
                _output.Add((byte)'\n');
                _line.Clear();
                _cursor = 0;
                break;
            case (byte)'\r':
                _cursor = 0;
                break;
            case (byte)'\b':
                MoveBack(1);
                break;
            case 0x1B:
                _state = State.Escape;
                break;
            default:
                break;
        }
    }

    private void Execute(byte command, int parameter)
    {
        switch (command)
        {
            case (byte)'K' when parameter == 0:
                _line.RemoveRange(Math.Min(_cursor, _line.Count), _line.Count - Math.Min(_cursor, _line.Count));
                break;
            case (byte)'K' when parameter == 1:
                EraseToCursor();
                break;
            case (byte)'K' when parameter == 2:
                int cells = Cells(0, Math.Min(_cursor, _line.Count)) + Math.Max(0, _cursor - _line.Count);
                _line.Clear();
                _cursor = cells;
                break;
            case (byte)'D':
                MoveBack(Math.Max(parameter, 1));
                break;
            case (byte)'C' or (byte)'a':
                MoveForward(Math.Max(parameter, 1));
                break;
            case (byte)'G' or (byte)'`':
                _cursor = 0;
                MoveForward(Math.Max(parameter, 1) - 1);
                break;
            default:
                break;
        }
    }

    private void EraseToCursor()
    {
        // Every cell from column 0 through the cursor becomes one space.
        int end = _cursor < _line.Count ? _cursor + CharLength(_cursor) : _line.Count;
        int cells = Cells(0, end);
        int cursorCell = _cursor < _line.Count ? cells - 1 : cells + (_cursor - _line.Count);
        _line.RemoveRange(0, end);
        _line.InsertRange(0, Enumerable.Repeat((byte)' ', cells));
        _cursor = cursorCell;
    }

    private void MoveBack(int cells)
    {
        for (; cells > 0 && _cursor > 0; cells--)
        {
            if (_cursor > _line.Count)
            {
                _cursor--;
                continue;
            }

            Rune.DecodeLastFromUtf8(Bytes(0, _cursor), out _, out int length);
            _cursor -= length;
        }
    }

    private void MoveForward(int cells)
    {
        for (; cells > 0; cells--)
        {
            _cursor += _cursor < _line.Count ? CharLength(_cursor) : 1;
        }

        _cursor = Math.Min(_cursor, Max);
    }

    private void WritePendingText()
    {
        int start = 0;
        while (start < _text.Count)
        {
            if (_cursor < _line.Count)
            {
                int length = Math.Min(PieceBytes, _text.Count - start);
                Overwrite(_text.GetRange(start, length).ToArray());
                start += length;
                TrimOverlongLine();
                continue;
            }

            while (_line.Count < _cursor)
            {
                _line.Add((byte)' ');
            }

            // Appended byte by byte; the line is cut as soon as it grows past Max.
            _line.Add(_text[start++]);
            _cursor++;
            TrimOverlongLine();
        }

        _text.Clear();
    }

    private void Overwrite(byte[] piece)
    {
        // Continuation bytes completing a character whose first bytes are just before the cursor replace nothing.
        int completing = 0;
        if (_cursor > 0 && (piece[0] & 0xC0) == 0x80)
        {
            Rune.DecodeLastFromUtf8(Bytes(0, _cursor), out _, out int previous);
            int start = _cursor - previous;
            if (Rune.DecodeFromUtf8(Bytes(start, previous), out _, out _) == OperationStatus.NeedMoreData)
            {
                byte lead = _line[start];
                int missing = (lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2) - previous;
                while (completing < missing && completing < piece.Length && (piece[completing] & 0xC0) == 0x80)
                {
                    completing++;
                }
            }
        }

        int cells = 0;
        for (int i = completing; i < piece.Length; cells++)
        {
            Rune.DecodeFromUtf8(piece.AsSpan(i), out _, out int length);
            i += length;
        }

        int oldEnd = _cursor;
        for (int i = 0; i < cells && oldEnd < _line.Count; i++)
        {
            oldEnd += CharLength(oldEnd);
        }

        _line.RemoveRange(_cursor, oldEnd - _cursor);
        _line.InsertRange(_cursor, piece);
        _cursor += piece.Length;
    }

    private void TrimOverlongLine()
    {
        while (_line.Count > Max)
        {
            _output.AddRange(_line.GetRange(0, Max));
            _line.RemoveRange(0, Max);
            _cursor = Math.Max(0, _cursor - Max);
        }
    }

    private int CharLength(int offset)
    {
        Rune.DecodeFromUtf8(Bytes(offset, _line.Count - offset), out _, out int length);
        return length;
    }

    private int Cells(int start, int end)
    {
        int cells = 0;
        for (int i = start; i < end; cells++)
        {
            Rune.DecodeFromUtf8(Bytes(i, end - i), out _, out int length);
            i += length;
        }

        return cells;
    }

    private byte[] Bytes(int start, int count) => _line.GetRange(start, count).ToArray();
}
