using System.Buffers;

namespace LogQuota.Runner.Logs.Screen;

/// <summary>
/// Paul Williams' DEC parser state machine (vt100.net/emu/dec_ansi_parser), as xterm.js and alacritty's
/// <c>vte</c> implement it: it only classifies bytes into printable runs, C0 controls, ESC, CSI and string
/// sequences, and hands each to <see cref="ScreenCommands"/>. Any sequence may be split across reads; the
/// parser keeps its state between calls and allocates nothing.
/// </summary>
/// <remarks>
/// Strings (DCS, SOS, PM, APC) are skipped without being kept, however long; of an OSC string only the first
/// <see cref="MaxOscBytes"/> are kept, for OSC 8 hyperlinks. Bytes are never C1
/// controls: 0x80–0x9F are UTF-8 continuation bytes here, part of printable text.
/// </remarks>
internal sealed class EscapeParser(ScreenCommands commands)
{
    private const int MaxParameters = 16;

    /// <summary>Parameters are capped here: no command needs more, and a flood of digits cannot overflow.</summary>
    private const int MaxParameterValue = 65535;

    private const byte Esc = 0x1B;
    private const byte Can = 0x18;
    private const byte Sub = 0x1A;
    private const byte Bel = 0x07;
    private const byte Del = 0x7F;

    /// <summary>An OSC string kept for its command: the longest link the screen takes, and its parameters.</summary>
    private const int MaxOscBytes = LinkTable.MaxUriBytes + 256;

    // Printable runs end at any C0 control or DEL.
    private static readonly SearchValues<byte> s_runEnds = SearchValues.Create(
        [.. Enumerable.Range(0, 0x20).Select(b => (byte)b), Del]);

    private static readonly SearchValues<byte> s_sgrParameters = SearchValues.Create("0123456789;:"u8);

    private static readonly SearchValues<byte> s_oscEnds = SearchValues.Create(Bel, Esc, Can, Sub);
    private static readonly SearchValues<byte> s_stringEnds = SearchValues.Create(Esc, Can, Sub);

    private readonly int[] _parameters = new int[MaxParameters];
    private readonly byte[] _osc = new byte[MaxOscBytes];
    private int _oscLength;
    private bool _oscOverflow;

    /// <summary>Bit <c>i</c> set when parameter <c>i</c> followed a <c>:</c> (SGR's sub-parameters).</summary>
    private int _colons;
    private State _state;
    private int _parameterCount;
    private byte _prefix;
    private byte _intermediate;

    private enum State : byte
    {
        Ground,
        Escape,
        EscapeIntermediate,
        CsiEntry,
        CsiParameter,
        CsiIntermediate,
        CsiIgnore,
        Osc,

        /// <summary>DCS, SOS, PM and APC: skipped up to ST.</summary>
        String,
    }

    /// <summary>True in the ground state, where a new read starts with text or a control.</summary>
    public bool InGround => _state == State.Ground;

    public void Parse(ReadOnlySpan<byte> input)
    {
        while (!input.IsEmpty)
        {
            switch (_state)
            {
                case State.Ground:
                    int end = input.IndexOfAny(s_runEnds);
                    if (end < 0)
                    {
                        commands.Print(input);
                        return;
                    }

                    if (end > 0)
                    {
                        commands.Print(input[..end]);
                    }

                    int sgr = SgrLength(input[end..]);
                    if (sgr > 0)
                    {
                        // SGR, the commonest sequence, is read whole without the state machine.
                        FastSgr(input.Slice(end + 2, sgr - 3));
                        input = input[(end + sgr)..];
                        break;
                    }

                    Control(input[end]);
                    input = input[(end + 1)..];
                    break;
                case State.Osc:
                    input = SkipOsc(input);
                    break;
                case State.String:
                    input = SkipString(input, s_stringEnds);
                    break;
                default:
                    Sequence(input[0]);
                    input = input[1..];
                    break;
            }
        }
    }

    /// <summary>The length of a complete <c>ESC [ 0-9;: m</c> at the start of <paramref name="input"/>, else 0.</summary>
    private static int SgrLength(ReadOnlySpan<byte> input)
    {
        if (input.Length < 3 || input[0] != Esc || input[1] != '[')
        {
            return 0;
        }

        int end = input[2..].IndexOfAnyExcept(s_sgrParameters);
        return end >= 0 && input[2 + end] == 'm' ? end + 3 : 0;
    }

    /// <summary>The parameters of a complete SGR (its bytes between <c>ESC [</c> and <c>m</c>), to the commands.</summary>
    private void FastSgr(ReadOnlySpan<byte> body)
    {
        Span<int> parameters = stackalloc int[MaxParameters];
        int count = 1;
        int colons = 0;
        parameters[0] = 0;
        foreach (byte b in body)
        {
            if (b is (byte)';' or (byte)':')
            {
                if (count < MaxParameters)
                {
                    colons |= b == ':' ? 1 << count : 0;
                    parameters[count++] = 0;
                }
            }
            else
            {
                ref int value = ref parameters[count - 1];
                value = Math.Min(MaxParameterValue, (value * 10) + (b - '0'));
            }
        }

        commands.Csi(parameters[..count], 0, 0, (byte)'m', colons);
    }

    /// <summary>Like <see cref="SkipString"/>, keeping the string's first <see cref="MaxOscBytes"/> for the commands.</summary>
    private ReadOnlySpan<byte> SkipOsc(ReadOnlySpan<byte> input)
    {
        int end = input.IndexOfAny(s_oscEnds);
        var body = end < 0 ? input : input[..end];
        int room = MaxOscBytes - _oscLength;
        if (body.Length > room)
        {
            _oscOverflow = true;
            body = body[..room];
        }

        body.CopyTo(_osc.AsSpan(_oscLength));
        _oscLength += body.Length;
        if (end < 0)
        {
            return [];
        }

        // CAN and SUB abort the string: nothing of it is acted on.
        if (input[end] is Bel or Esc)
        {
            commands.Osc(_osc.AsSpan(0, _oscLength), complete: !_oscOverflow);
        }

        return SkipString(input, s_oscEnds);
    }

    private ReadOnlySpan<byte> SkipString(ReadOnlySpan<byte> input, SearchValues<byte> ends)
    {
        int end = input.IndexOfAny(ends);
        if (end < 0)
        {
            return [];
        }

        // BEL ends an OSC; CAN and SUB abort any string; ESC ends it and starts the next sequence (ESC \ is ST).
        _state = input[end] == Esc ? State.Escape : State.Ground;
        _intermediate = 0;
        commands.EndString();
        return input[(end + 1)..];
    }

    /// <summary>A C0 control or DEL in the ground state.</summary>
    private void Control(byte b)
    {
        if (b == Esc)
        {
            commands.EndText();
            _state = State.Escape;
            _intermediate = 0;
        }
        else if (b != Del)
        {
            commands.Execute(b);
        }
    }

    /// <summary>One byte inside an ESC or CSI sequence.</summary>
    private void Sequence(byte b)
    {
        if (b == Esc)
        {
            _state = State.Escape;
            _intermediate = 0;
            return;
        }

        if (b is Can or Sub)
        {
            _state = State.Ground;
            return;
        }

        if (b < 0x20)
        {
            // C0 controls are executed in the middle of a sequence, as on a VT100.
            commands.Execute(b);
            return;
        }

        if (b == Del)
        {
            return;
        }

        switch (_state)
        {
            case State.Escape:
                EscapeByte(b);
                break;
            case State.EscapeIntermediate:
                if (b < 0x30)
                {
                    _intermediate = b;
                }
                else
                {
                    _state = State.Ground;
                    commands.Escape(_intermediate, b);
                }

                break;
            default:
                CsiByte(b);
                break;
        }
    }

    private void EscapeByte(byte b)
    {
        switch (b)
        {
            case (byte)'[':
                _state = State.CsiEntry;
                _parameterCount = 1;
                _parameters[0] = 0;
                _colons = 0;
                _prefix = 0;
                _intermediate = 0;
                break;
            case (byte)']':
                _state = State.Osc;
                _oscLength = 0;
                _oscOverflow = false;
                break;
            case (byte)'P' or (byte)'X' or (byte)'^' or (byte)'_':
                _state = State.String;
                break;
            case < 0x30:
                _intermediate = b;
                _state = State.EscapeIntermediate;
                break;
            default:
                _state = State.Ground;
                commands.Escape(0, b);
                break;
        }
    }

    private void CsiByte(byte b)
    {
        if (b >= 0x40)
        {
            var state = _state;
            _state = State.Ground;
            if (state != State.CsiIgnore)
            {
                commands.Csi(_parameters.AsSpan(0, _parameterCount), _prefix, _intermediate, b, _colons);
            }

            return;
        }

        if (_state == State.CsiIgnore)
        {
            return;
        }

        if (b < 0x30)
        {
            _intermediate = b;
            _state = State.CsiIntermediate;
            return;
        }

        if (_state == State.CsiIntermediate)
        {
            _state = State.CsiIgnore; // a parameter after an intermediate byte: malformed
            return;
        }

        if (b <= '9')
        {
            ref int value = ref _parameters[_parameterCount - 1];
            value = Math.Min(MaxParameterValue, (value * 10) + (b - '0'));
            _state = State.CsiParameter;
        }
        else if (b is (byte)';' or (byte)':')
        {
            // Sub-parameters (':') only matter to SGR's extended colours and underline kinds.
            if (_parameterCount < MaxParameters)
            {
                _colons |= b == ':' ? 1 << _parameterCount : 0;
                _parameters[_parameterCount++] = 0;
            }

            _state = State.CsiParameter;
        }
        else if (_state == State.CsiEntry)
        {
            _prefix = b; // '<', '=', '>' or '?'
            _state = State.CsiParameter;
        }
        else
        {
            _state = State.CsiIgnore;
        }
    }
}
