using System.Buffers;
using System.Text;
using LogQuota.Runner.Logs;
using Microsoft.Extensions.Time.Testing;

namespace LogQuota.Runner.Tests.Logs;

/// <summary>When the processor stores a line of its screen, and what stays live (SPEC §2 "When a line is stored").</summary>
public sealed class StoringRuleTests
{
    private readonly FakeTimeProvider _time = new();
    private readonly ArrayBufferWriter<byte> _stored = new();
    private readonly TerminalProcessor _processor;

    public StoringRuleTests()
    {
        _processor = new TerminalProcessor(_time);
    }

    private string Stored => Encoding.UTF8.GetString(_stored.WrittenSpan);

    private void Write(string text) => _processor.Process(Encoding.UTF8.GetBytes(text), _stored);

    private string? Live()
    {
        var live = new ArrayBufferWriter<byte>();
        return _processor.WriteLive(live) ? Encoding.UTF8.GetString(live.WrittenSpan) : null;
    }

    private void Finish() => _processor.Finish(_stored);

    [Fact]
    public void PlainLines_AreStoredAsTheirLineFeedArrives_AndTheUnfinishedOneIsLive()
    {
        Write("first\r\nsecond\r\nthi");

        Assert.Equal("first\nsecond\n", Stored);
        Assert.Equal("thi", Live());

        Write("rd\r\n");
        Assert.Equal("first\nsecond\nthird\n", Stored);
        Assert.Null(Live());
    }

    [Fact]
    public void NestedBars_DrawnOverManyReads_AreStoredOnce_InTheirFinalState()
    {
        // tqdm's byte order for an outer and an inner bar: each write is its own read, as on a busy pty.
        Write("\r outer   0%");
        Write("\n");
        Write("\r inner   0%");
        Write("\u001b[A");
        for (int i = 1; i <= 100; i++)
        {
            Write("\n");
            Write($"\r inner {i,3}%");
            Write("\u001b[A");
            Write($"\r outer {i,3}%");
        }

        Assert.Equal("", Stored);
        Assert.Equal(" outer 100%\n inner 100%", Live());

        Write("\r\n\r\n");
        Write("done\r\n");
        Finish();
        Assert.Equal(" outer 100%\n inner 100%\ndone\n", Stored);
    }

    [Fact]
    public void LinesThatScrollOff_AreStoredAtOnce_EvenWhileTheCursorIsHidden()
    {
        Write("\u001b[?25l" + string.Concat(Enumerable.Range(0, 60).Select(i => $"line {i}\r\n")));

        Assert.Equal(string.Concat(Enumerable.Range(0, 11).Select(i => $"line {i}\n")), Stored);
        Assert.StartsWith("line 11\nline 12\n", Live(), StringComparison.Ordinal);
    }

    [Fact]
    public void AHeldLine_UnchangedFor30Seconds_IsStored_AndAChangeStoresItAgain()
    {
        Write("\u001b[?25lEpoch 1/3\r\nbatch 10%");
        _time.Advance(TimeSpan.FromSeconds(29));
        _processor.StoreStale(_stored);
        Assert.Equal("", Stored);

        _time.Advance(TimeSpan.FromSeconds(2));
        _processor.StoreStale(_stored);
        Assert.Equal("Epoch 1/3\nbatch 10%\n", Stored);
        Assert.Null(Live());

        Write("\rbatch 20%\u001b[K");
        Assert.Equal("batch 20%", Live());
        Finish();
        Assert.Equal("Epoch 1/3\nbatch 10%\nbatch 20%\n", Stored);
    }

    [Fact]
    public void AStaleLine_BelowOneStillChanging_WaitsForIt_SoTheLogKeepsTheScreensOrder()
    {
        Write("\u001b[?25lbar\r\nfixed\r\n");
        _time.Advance(TimeSpan.FromSeconds(20));
        Write("\u001b[2A\rbar 2");
        _time.Advance(TimeSpan.FromSeconds(20));
        _processor.StoreStale(_stored);

        Assert.Equal("", Stored);
        _time.Advance(TimeSpan.FromSeconds(11));
        _processor.StoreStale(_stored);
        Assert.Equal("bar 2\nfixed\n", Stored);
    }

    [Fact]
    public void ALogicalLineOver32KiB_IsStoredInPiecesOfItsOwn()
    {
        Write(new string('a', 70_000) + "\r\n");

        var lines = Stored.Split('\n');
        Assert.Equal([32_768, 32_768, 4_464, 0], lines.Select(l => l.Length));
    }

    [Fact]
    public void EmptyLinesBetweenText_AreStored_TrailingOnesAreNot()
    {
        Write("a\r\n\r\n\r\nb\r\n\r\n\r\n");
        Finish();

        Assert.Equal("a\n\n\nb\n", Stored);
    }

    [Fact]
    public void TheAlternateScreen_IsLiveButNeverStored()
    {
        Write("before\r\n\u001b[?1049h\u001b[Htop frame\r\nrow 2");
        Assert.Equal("top frame\nrow 2", Live());

        Write("\u001b[?1049lafter\r\n");
        Finish();
        Assert.Equal("before\nafter\n", Stored);
    }

    [Fact]
    public void InvalidUtf8_IsKeptByteForByte()
    {
        byte[] bytes = [(byte)'a', 0xFF, 0xC3, (byte)'b', 0xE2, 0x82, (byte)'\r', (byte)'\n'];
        _processor.Process(bytes, _stored);

        Assert.Equal(new byte[] { (byte)'a', 0xFF, 0xC3, (byte)'b', 0xE2, 0x82, (byte)'\n' }, _stored.WrittenSpan.ToArray());
    }

    [Theory]
    [InlineData("plain lines\r\nof text \r\n\r\nand more\r\n")]
    [InlineData("\u001b[1;32mcolour\u001b[0m and tabs\tx\r\n")]
    [InlineData("a 300-column line " + "wwwwwwwwww" + "wwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwww\r\nend\r\n")]
    public void OutputThatNeverRedraws_IsStoredTheSame_WholeOrByteByByte(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text + string.Concat(Enumerable.Range(0, 80).Select(i => $"{i}\r\n")));
        _processor.Process(bytes, _stored);
        Finish();

        var byteByByte = new TerminalProcessor(_time);
        var stored = new ArrayBufferWriter<byte>();
        foreach (byte b in bytes)
        {
            byteByByte.Process([b], stored);
        }

        byteByByte.Finish(stored);
        Assert.Equal(Stored, Encoding.UTF8.GetString(stored.WrittenSpan));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void PlainLinesOfUtf8AndColours_TakeTheShortcut_AndAreStoredAsTheScreenStoresThem(int seed)
    {
        // The shortcut copies plain lines without the screen; byte by byte, every line goes through the screen.
        // Tokens near its edges: combining marks (joined, standalone after a colour, at a line start), the byte order
        // mark, the soft hyphen, NEL as UTF-8, wide characters, invalid bytes, lines that wrap, EL 0, OSC strings and
        // the cursor hidden (shown again on the line, or not).
        string[] tokens = ["log", " ", "é", "e\u0301", "e\u0301\u0302", "世界", "\u00ad", "\u0085", "█", new string('x', 150),
            "\u001b[32m", "\u001b[0m", "\u001b[1;38;5;200m", "  ", "\ufeff", "\u200b", "\u001b[K", "\u001b[0K", "\u001b]0;title\u0007",
            "\u001b]8;;http://x\u001b\\", "\u001b[?25l", "\u001b[?25h"];
        var random = new Random(seed);
        var text = new StringBuilder();
        for (int line = 0; line < 300; line++)
        {
            for (int i = random.Next(0, 30); i > 0; i--)
            {
                text.Append(tokens[random.Next(tokens.Length)]);
            }

            text.Append("\r\n");
        }

        var bytes = Encoding.UTF8.GetBytes(text.ToString()).Concat(new byte[] { 0xFF, 0xC3, (byte)'\r', (byte)'\n' }).ToArray();
        _processor.Process(bytes, _stored);
        Finish();

        var byteByByte = new TerminalProcessor(_time);
        var stored = new ArrayBufferWriter<byte>();
        foreach (byte b in bytes)
        {
            byteByByte.Process([b], stored);
        }

        byteByByte.Finish(stored);
        Assert.Equal(Stored, Encoding.UTF8.GetString(stored.WrittenSpan));
    }

    [Theory]
    // CSI L pushes "step 12/40" down three rows, and the fourth plain line lands on it: xterm shows "dtep 12/40". The
    // shortcut, which stores each line as written, may start only when nothing is on the screen from the cursor down.
    [InlineData("pushed down", "a\nb\nc\ndtep 12/40\n", "step 12/40\r\u001b[3L", "a\r\nb\r\nc\r\nd\r\n")]
    // A read that ended with \r: the next text redraws the line (held, then scrolled away by CSI S as xterm does), so the
    // line after it may not take the shortcut either.
    [InlineData("after a return", "\n\n    \U0001F600\n", "\r", "\U0001F600\r\n", "\u001b(0lqqk\u001b(B\n\u001b[5S\U0001F600\u001b[s")]
    public void PlainLines_InAReadOfTheirOwn_AreStoredAsInOneRead(string name, string shown, params string[] reads)
    {
        foreach (var read in reads)
        {
            Write(read);
        }

        Finish();

        var oneRead = new TerminalProcessor(_time);
        var stored = new ArrayBufferWriter<byte>();
        oneRead.Process(Encoding.UTF8.GetBytes(string.Concat(reads)), stored);
        oneRead.Finish(stored);
        Assert.True(shown == Encoding.UTF8.GetString(stored.WrittenSpan), $"{name}: one read stored \"{Encoding.UTF8.GetString(stored.WrittenSpan)}\"");
        Assert.Equal(shown, Stored);
    }

    [Fact]
    public void PlainLines_AfterAScreenfulWithoutRedraws_AreStoredAtTheirLineFeedAgain()
    {
        Write("\rprogress 100%\r\n");
        Write(string.Concat(Enumerable.Range(0, 60).Select(i => $"log {i}\r\n")));

        Write("last\r\n");
        Assert.EndsWith("log 59\nlast\n", Stored, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("plain")]
    [InlineData("ansi")]
    [InlineData("redraw")]
    public void Process_AllocatesNothing_OnceWarm(string kind)
    {
        var chunk = Encoding.UTF8.GetBytes(kind switch
        {
            "plain" => string.Concat(Enumerable.Range(0, 500).Select(i => $"plain log line number {i} of the job\r\n")),
            "ansi" => string.Concat(Enumerable.Range(0, 500).Select(i => $"\u001b[32mINFO\u001b[0m line {i} \u001b[1mbold\u001b[0m\r\n")),
            _ => string.Concat(Enumerable.Range(0, 200).Select(i => $"\r outer {i}%\n\r inner {i}% ██▏\u001b[A")),
        });
        var output = new ArrayBufferWriter<byte>(16 * 1024 * 1024);
        var live = new ArrayBufferWriter<byte>(1024 * 1024);
        // Warm: buffers reach their size and the runtime's tiered compiler settles (it may allocate on this thread while
        // it swaps in optimized code).
        for (int i = 0; i < 50; i++)
        {
            output.ResetWrittenCount();
            _processor.Process(chunk, output);
            _processor.WriteLive(live);
            live.ResetWrittenCount();
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 20; i++)
        {
            output.ResetWrittenCount();
            _processor.Process(chunk, output);
            _processor.WriteLive(live);
            live.ResetWrittenCount();
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
