using System.Buffers;
using System.Text;
using LogQuota.Runner.Logs;

namespace LogQuota.Runner.Tests.Logs;

public sealed class TerminalProcessorTests
{
    private const int Max = TerminalProcessor.MaxLineBytes;

    // Each case: raw terminal text and the stored text, computed by hand. Every case ends with "\n", so nothing is
    // left pending and the stored text is what Process wrote.
    public static TheoryData<string, string> Sequences => new()
    {
        { "\e[1;31mred\e[0m plain\n", "red plain\n" },
        { "\e[38;5;196mx\e[48;2;10;20;30my\e[m\n", "xy\n" },
        { "a\e[2Ab\e[3Bc\e[2Jd\e[Hf\e[?25lg\e[?1049hh\e[>4;1mi\e[0 qj\n", "abcdfghij\n" },
        { "\e]0;my title\u0007after\n", "after\n" },
        { "\e]2;my title\e\\after\n", "after\n" },
        { "\e]8;;https://example.com/\e\\link\e]8;;\e\\\n", "link\n" },
        { "a\ePq#0;2;0;0;0#0!10~\e\\b\eXsos\e\\c\e^pm\e\\d\e_apc\e\\e\n", "abcde\n" },
        { "a\e(Bb\e)0c\e7d\e8e\e=f\e>g\eMh\ech\e#8i\e%Gj\n", "abcdefghhij\n" },
        { "abcdef\e[3D\e[KX\n", "abcX\n" },
        { "hello world\rHELLO\n", "HELLO world\n" },
        { "abcdef\e[4GX\e[1;1HY\n", "abcXYf\n" },
        { "\e]0;title\e[31mred\n", "red\n" },
    };

    [Theory]
    [MemberData(nameof(Sequences))]
    public void Sequence_IsRemovedOrApplied(string raw, string stored)
    {
        Assert.Equal(stored, Run(raw));
    }

    [Theory]
    [MemberData(nameof(Sequences))]
    public void Sequence_SplitAtEveryBytePosition_GivesTheUnsplitResult(string raw, string stored)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(raw);
        for (int split = 0; split <= bytes.Length; split++)
        {
            var processor = new TerminalProcessor();
            var output = new ArrayBufferWriter<byte>();
            processor.Process(bytes.AsSpan(0, split), output);
            processor.Process(bytes.AsSpan(split), output);

            Assert.True(stored == Encoding.UTF8.GetString(output.WrittenSpan), $"split at byte {split}");
        }
    }

    [Theory]
    [MemberData(nameof(Sequences))]
    public void Sequence_FedOneByteAtATime_GivesTheUnsplitResult(string raw, string stored)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(raw);
        var processor = new TerminalProcessor();
        var output = new ArrayBufferWriter<byte>();
        foreach (byte b in bytes)
        {
            processor.Process([b], output);
        }

        Assert.Equal(stored, Encoding.UTF8.GetString(output.WrittenSpan));
    }

    [Fact]
    public void MixedStream_SplitIntoThreeReadsAtEveryPosition_GivesTheUnsplitResult()
    {
        string raw = "start\e[32m ok\e[0m\r\n"
            + "\e]0;build\u0007 50%\r 75%\r100%\n"
            + "€uro\b\bé\e[K|\ePdata\e\\|\e(0x\n"
            + "abc\e[2K\e[3GZ\r\n"
            + "tail\e[1K!";
        string stored = "start ok\n" + "100%\n" + "€ué||x\n" + "  Z\n" + "    !";
        byte[] bytes = Encoding.UTF8.GetBytes(raw);

        Assert.Equal(stored, Decode(RunBytes(bytes, flush: true)));

        // Three reads cover every pair of split points inside a sequence, not only the first one.
        for (int first = 0; first <= bytes.Length; first++)
        {
            for (int second = first; second <= bytes.Length; second += 7)
            {
                var processor = new TerminalProcessor();
                var output = new ArrayBufferWriter<byte>();
                processor.Process(bytes.AsSpan(0, first), output);
                processor.Process(bytes.AsSpan(first, second - first), output);
                processor.Process(bytes.AsSpan(second), output);
                processor.Flush(output);

                Assert.True(stored == Decode(output.WrittenSpan), $"splits at {first} and {second}");
            }
        }
    }

    [Fact]
    public void Colours_AreRemovedAndCostNothing()
    {
        string raw = "\e[1m\e[31mE\e[0m\e[33mRROR\e[39m: disk \e[4mfull\e[24m\n";

        Assert.Equal("ERROR: disk full\n", Run(raw));
    }

    [Fact]
    public void ProgressBar_RedrawnThousandTimes_IsStoredOnceInLastState()
    {
        var processor = new TerminalProcessor();
        var output = new ArrayBufferWriter<byte>();
        processor.Process("Downloading\n"u8, output);
        int afterHeader = output.WrittenCount;

        for (int done = 0; done <= 1000; done++)
        {
            int filled = done / 50;
            string bar = $"\r{done,4}/1000 [{new string('#', filled)}{new string('.', 20 - filled)}]";
            processor.Process(Encoding.UTF8.GetBytes(bar), output);
        }

        Assert.Equal(afterHeader, output.WrittenCount);
        Assert.True(processor.HasPendingLine);

        processor.Process("\n"u8, output);

        Assert.Equal("Downloading\n1000/1000 [####################]\n", Decode(output.WrittenSpan));
    }

    [Fact]
    public void ProgressBar_RedrawnWithShorterText_KeepsTheOldTailLikeATerminal()
    {
        Assert.Equal("Done!ng 99%\n", Run("Loading 99%\rDone!\n"));
    }

    [Fact]
    public void ProgressBar_DrawnWithMultiByteBlocks_IsOverwrittenCharacterByCharacter()
    {
        // "█" is 3 bytes and one cell; redrawing ten cells with ten spaces replaces all ten blocks.
        string full = "\r[" + new string('█', 10) + "] 100%";
        string empty = "\r[" + new string(' ', 10) + "]   0%";

        Assert.Equal("[          ]   0%\n", Run(full + empty + "\n"));
        Assert.Equal("[█████     ]  50%\n", Run(empty + "\r[█████\e[6C  50%\n"));
    }

    [Fact]
    public void Overwrite_SplitInsideAMultiByteCharacter_ReplacesOneCell()
    {
        // "€" = E2 82 AC arrives in two reads while the cursor overwrites "abc".
        byte[] euro = Encoding.UTF8.GetBytes("€");
        var processor = new TerminalProcessor();
        var output = new ArrayBufferWriter<byte>();

        processor.Process("abc\r"u8, output);
        processor.Process(euro.AsSpan(0, 1), output);
        processor.Process(euro.AsSpan(1), output);
        processor.Process("\n"u8, output);

        Assert.Equal("€bc\n", Decode(output.WrittenSpan));
    }

    [Fact]
    public void Overwrite_OfAMultiByteCharacterByAscii_LeavesNoOrphanedContinuationBytes()
    {
        byte[] stored = RunBytes(Encoding.UTF8.GetBytes("ü€z\rab\n"), flush: false);

        // "ü" (2 bytes) and "€" (3 bytes) are two cells; "ab" replaces both whole, no 0x82 0xAC left behind.
        Assert.Equal("abz\n"u8.ToArray(), stored);
    }

    [Fact]
    public void CrLf_IsAPlainLineEnd()
    {
        Assert.Equal("one\ntwo\n\nthree\n", Run("one\r\ntwo\r\n\r\nthree\r\n"));
    }

    [Fact]
    public void CrLf_SplitBetweenTheTwoBytes_IsAPlainLineEnd()
    {
        Assert.Equal("one\ntwo\n", Run("one\r", "\ntwo\r", "\n"));
    }

    [Fact]
    public void CarriageReturn_WithoutNewline_LeavesTheLinePending()
    {
        var processor = new TerminalProcessor();
        var output = new ArrayBufferWriter<byte>();

        processor.Process("50%\r"u8, output);

        Assert.Equal(0, output.WrittenCount);
        Assert.True(processor.HasPendingLine);
    }

    [Fact]
    public void Backspace_MovesBackOneCharacter()
    {
        Assert.Equal("aXc\n", Run("abc\b\bX\n"));
        Assert.Equal("ax\n", Run("aé\bx\n"));
        Assert.Equal("a€c\n", Run("abc\b\b€\n"));
    }

    [Fact]
    public void Backspace_AtColumnZero_StaysThere()
    {
        Assert.Equal("xb\n", Run("\b\bab\r\b\bx\n"));
    }

    [Fact]
    public void EraseToEndOfLine_WithAndWithoutZero_CutsAtTheCursor()
    {
        Assert.Equal("abc\n", Run("abcdef\e[3D\e[K\n"));
        Assert.Equal("abc\n", Run("abcdef\e[3D\e[0K\n"));
        Assert.Equal("abcdef\n", Run("abcdef\e[K\n"));
    }

    [Fact]
    public void EraseToStartOfLine_BlanksThroughTheCursorInclusive()
    {
        Assert.Equal("    ef\n", Run("abcdef\e[3D\e[1K\n"));
        Assert.Equal("    o\n", Run("héllo\e[2D\e[1K\n"));
        Assert.Equal("   X\n", Run("abc\e[1KX\n"));
    }

    [Fact]
    public void EraseWholeLine_KeepsTheCursorColumn()
    {
        Assert.Equal("   X\n", Run("abcdef\e[3D\e[2KX\n"));
        Assert.Equal("\n", Run("abcdef\e[2K\n"));
        Assert.Equal("new\n", Run("old text\r\e[2Knew\n"));
    }

    [Fact]
    public void CursorHorizontalMoves_ActOnTheCurrentLine()
    {
        Assert.Equal("abcdXY\n", Run("abcdef\e[2DXY\n"));
        Assert.Equal("abX\n", Run("abc\e[DX\n"));
        Assert.Equal("ab   X\n", Run("ab\e[3CX\n"));
        Assert.Equal("aXc\n", Run("abc\e[3D\e[CX\n"));
        Assert.Equal("         X\n", Run("\e[10GX\n"));
        Assert.Equal("Xbc\n", Run("abc\e[GX\n"));
        Assert.Equal("ab\n", Run("ab\e[5C\n"));
    }

    [Fact]
    public void CursorForward_ByAHugeCount_StopsAtTheLineLimit()
    {
        byte[] stored = RunBytes("a\e[99999Cb\n"u8.ToArray(), flush: false);

        // Column MaxLineBytes is the last reachable; writing there grows the line past the limit by one byte.
        Assert.Equal(Max + 2, stored.Length);
        Assert.Equal((byte)'a', stored[0]);
        Assert.Equal((byte)' ', stored[Max - 1]);
        Assert.Equal("b\n"u8.ToArray(), stored[Max..]);
    }

    [Fact]
    public void Bel_OutsideOsc_IsDropped()
    {
        Assert.Equal("ab\n", Run("a\u0007b\u0007\n"));
    }

    [Fact]
    public void CsiWithOverlongParameters_IsRemovedWithoutActing()
    {
        string digits = new('1', 40);

        Assert.Equal("abcX\n", Run($"abc\e[{digits}DX\n"));
    }

    [Fact]
    public void CsiWithThirtyTwoParameterBytes_StillActsAndWithThirtyThreeIsOnlyRemoved()
    {
        string acting = "\e[" + new string('0', 31) + "2D";
        string ignored = "\e[" + new string('0', 32) + "2D";

        Assert.Equal("aXc\n", Run($"abc{acting}X\n"));
        Assert.Equal("abcX\n", Run($"abc{ignored}X\n"));
    }

    [Fact]
    public void StringSequence_AbortedByCan_KeepsTheFollowingText()
    {
        Assert.Equal("a\u0018b\n", Run("a\e]0;title\u0018b\n"));
    }

    [Fact]
    public void InvalidUtf8AndOtherControls_AreKeptByteForByte()
    {
        byte[] raw = [0xFF, 0xFE, (byte)'a', 0xC3, (byte)'\t', 0x80, 0x00, 0x01, 0x7F, 0x9B, (byte)'3', (byte)'m', 0xED, 0xA0, 0x80, (byte)'\n'];

        Assert.Equal(raw, RunBytes(raw, flush: false));
    }

    [Fact]
    public void InvalidUtf8_SplitAtEveryBytePosition_IsKeptByteForByte()
    {
        byte[] raw = [0xE2, 0x82, (byte)'x', 0xF0, 0x9F, 0x98, (byte)'\r', 0xC3, (byte)'\n', 0x80, 0xBF];
        // "E2 82" is one invalid cell, so "C3" replaces both bytes; nothing else is touched or lost.
        byte[] stored = [0xC3, (byte)'x', 0xF0, 0x9F, 0x98, (byte)'\n', 0x80, 0xBF];
        for (int split = 0; split <= raw.Length; split++)
        {
            var processor = new TerminalProcessor();
            var output = new ArrayBufferWriter<byte>();
            processor.Process(raw.AsSpan(0, split), output);
            processor.Process(raw.AsSpan(split), output);
            processor.Flush(output);

            Assert.True(stored.AsSpan().SequenceEqual(output.WrittenSpan), $"split at byte {split}");
        }
    }

    [Fact]
    public void LoneEscape_BeforeAByteThatCannotContinueASequence_IsDroppedAndTheByteKept()
    {
        byte[] raw = [(byte)'a', 0x1B, (byte)'\n', 0x1B, 0xC3, 0xA9, (byte)'\n'];

        Assert.Equal("a\né\n"u8.ToArray(), RunBytes(raw, flush: false));
    }

    [Fact]
    public void LineOfOneMegabyte_WithoutNewline_IsEmittedInMaxLineChunksAndFlushEmitsTheRest()
    {
        byte[] raw = new byte[1_000_000];
        for (int i = 0; i < raw.Length; i++)
        {
            raw[i] = (byte)('a' + (i % 26));
        }

        var processor = new TerminalProcessor();
        var output = new RecordingWriter();

        processor.Process(raw, output);

        // 1,000,000 = 30 * 32,768 + 16,960.
        Assert.Equal(30 * Max, output.Written.Count);
        Assert.All(output.Advances, advance => Assert.Equal(Max, advance));
        Assert.True(processor.HasPendingLine);

        processor.Flush(output);

        Assert.Equal(16_960, output.Advances[^1]);
        Assert.Equal(raw, output.Written);
        Assert.False(processor.HasPendingLine);
    }

    [Fact]
    public void LineOfOneMegabyte_FedIn4KReads_IsStoredWhole()
    {
        byte[] raw = new byte[1 << 20];
        raw.AsSpan().Fill((byte)'x');
        var processor = new TerminalProcessor();
        var output = new ArrayBufferWriter<byte>();

        for (int offset = 0; offset < raw.Length; offset += 4096)
        {
            processor.Process(raw.AsSpan(offset, 4096), output);
        }

        // 2^20 = 32 * 2^15: the 32nd chunk is exactly MaxLineBytes and stays pending until more arrives.
        Assert.Equal(31 * Max, output.WrittenCount);
        processor.Flush(output);
        Assert.Equal(raw, output.WrittenSpan.ToArray());
    }

    [Fact]
    public void LineOfExactlyMaxLineBytes_IsStoredWholeWithItsNewline()
    {
        var processor = new TerminalProcessor();
        var output = new ArrayBufferWriter<byte>();
        byte[] line = new byte[Max];
        line.AsSpan().Fill((byte)'z');

        processor.Process(line, output);

        Assert.Equal(0, output.WrittenCount);

        processor.Process("\n"u8, output);

        Assert.Equal(Max + 1, output.WrittenCount);
        Assert.Equal((byte)'\n', output.WrittenSpan[^1]);
    }

    [Fact]
    public void LineGrowingPastMaxLineBytes_ByOneByte_EmitsItsFirstMaxLineBytes()
    {
        var processor = new TerminalProcessor();
        var output = new ArrayBufferWriter<byte>();
        byte[] line = new byte[Max];
        line.AsSpan().Fill((byte)'z');
        processor.Process(line.AsSpan(0, 100), output);
        processor.Process(line.AsSpan(100), output);

        processor.Process("!"u8, output);

        Assert.Equal(line, output.WrittenSpan.ToArray());
        Assert.True(processor.HasPendingLine);

        processor.Process("\rX\n"u8, output);

        // The cut-off chunk is final; "\r" returns to the start of what followed it.
        Assert.Equal("X\n"u8.ToArray(), output.WrittenSpan[Max..].ToArray());
    }

    [Fact]
    public void HasPendingLine_TracksTheUnfinishedLine()
    {
        var processor = new TerminalProcessor();
        var output = new ArrayBufferWriter<byte>();
        Assert.False(processor.HasPendingLine);

        processor.Process("\e[31m\u0007\r"u8, output);
        Assert.False(processor.HasPendingLine);

        processor.Process("abc"u8, output);
        Assert.True(processor.HasPendingLine);

        processor.Process("\r"u8, output);
        Assert.True(processor.HasPendingLine);

        processor.Process("\n"u8, output);
        Assert.False(processor.HasPendingLine);

        processor.Process("x"u8, output);
        Assert.True(processor.HasPendingLine);

        processor.Flush(output);
        Assert.False(processor.HasPendingLine);

        processor.Process("ab\e[2K"u8, output);
        Assert.False(processor.HasPendingLine);

        Assert.Equal("abc\nx", Decode(output.WrittenSpan));
    }

    [Fact]
    public void Flush_EmitsTheUnfinishedLineWithoutNewlineAndClearsIt()
    {
        var processor = new TerminalProcessor();
        var output = new ArrayBufferWriter<byte>();

        processor.Process("one\ntwo"u8, output);
        processor.Flush(output);
        processor.Flush(output);
        processor.Process("three\n"u8, output);

        Assert.Equal("one\ntwothree\n", Decode(output.WrittenSpan));
    }

    [Fact]
    public void Flush_InsideASplitSequence_StillRemovesTheSequence()
    {
        var processor = new TerminalProcessor();
        var output = new ArrayBufferWriter<byte>();

        processor.Process("a\e[3"u8, output);
        processor.Flush(output);
        processor.Process("1mb\n"u8, output);

        Assert.Equal("ab\n", Decode(output.WrittenSpan));
    }

    [Fact]
    public void ManyLinesInOneCall_AreStoredInOrderWithOneWrite()
    {
        var raw = new StringBuilder();
        var stored = new StringBuilder();
        for (int i = 0; i < 10_000; i++)
        {
            string end = i % 3 == 0 ? "\r\n" : "\n";
            raw.Append("line ").Append(i).Append(end);
            stored.Append("line ").Append(i).Append('\n');
        }

        var processor = new TerminalProcessor();
        var output = new RecordingWriter();
        processor.Process(Encoding.UTF8.GetBytes(raw.ToString()), output);

        Assert.Equal(stored.ToString(), Decode(output.Written.ToArray()));
        Assert.Single(output.Advances);
        Assert.False(processor.HasPendingLine);
    }

    [Fact]
    public void ManyLinesInOneCall_AfterAPendingLineAndWithColours_AreStoredInOrder()
    {
        var processor = new TerminalProcessor();
        var output = new ArrayBufferWriter<byte>();
        processor.Process("partial "u8, output);

        processor.Process("end\nA\n\e[32mB\e[0m\nC\r\nD\rE\nF"u8, output);

        Assert.Equal("partial end\nA\nB\nC\nE\n", Decode(output.WrittenSpan));
        Assert.True(processor.HasPendingLine);
    }

    [Fact]
    public void Process_AfterWarmUp_AllocatesNothing()
    {
        byte[] plain = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("plain text line\n", 200)));
        byte[] busy = Encoding.UTF8.GetBytes("\e[32m 42%\e[0m [####  ]\r\e[2K 43%\b\b€\e]0;t\u0007\r\n");
        var processor = new TerminalProcessor();
        var output = new ArrayBufferWriter<byte>(1 << 20);
        for (int i = 0; i < 50; i++)
        {
            processor.Process(plain, output);
            processor.Process(busy, output);
            output.ResetWrittenCount();
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
        {
            processor.Process(plain, output);
            processor.Process(busy, output);
            output.ResetWrittenCount();
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    private static string Run(params string[] reads)
    {
        var processor = new TerminalProcessor();
        var output = new ArrayBufferWriter<byte>();
        foreach (string read in reads)
        {
            processor.Process(Encoding.UTF8.GetBytes(read), output);
        }

        return Decode(output.WrittenSpan);
    }

    private static byte[] RunBytes(byte[] raw, bool flush)
    {
        var processor = new TerminalProcessor();
        var output = new ArrayBufferWriter<byte>();
        processor.Process(raw, output);
        if (flush)
        {
            processor.Flush(output);
        }

        return output.WrittenSpan.ToArray();
    }

    private static string Decode(ReadOnlySpan<byte> bytes) => Encoding.UTF8.GetString(bytes);

    /// <summary>An output that records the size of every Advance, to see how the processor writes.</summary>
    private sealed class RecordingWriter : IBufferWriter<byte>
    {
        private byte[] _buffer = new byte[64];

        public List<byte> Written { get; } = [];

        public List<int> Advances { get; } = [];

        public void Advance(int count)
        {
            Written.AddRange(_buffer.AsSpan(0, count));
            Advances.Add(count);
        }

        public Memory<byte> GetMemory(int sizeHint = 0)
        {
            if (_buffer.Length < sizeHint)
            {
                _buffer = new byte[sizeHint];
            }

            return _buffer;
        }

        public Span<byte> GetSpan(int sizeHint = 0) => GetMemory(sizeHint).Span;
    }
}
