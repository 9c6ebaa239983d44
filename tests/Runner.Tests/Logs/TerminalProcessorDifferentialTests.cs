using System.Buffers;
using System.Text;
using LogQuota.Runner.Logs;

namespace LogQuota.Runner.Tests.Logs;

/// <summary>
/// The processor's fast paths (bulk line copies, searches for the next control, whole-sequence parsing, vectorized
/// character counting) against <see cref="ReferenceTerminal"/>, a byte-wise model, on random terminal output cut into
/// random reads.
/// </summary>
public sealed class TerminalProcessorDifferentialTests
{
    private const int Max = TerminalProcessor.MaxLineBytes;

    // Pieces of real terminal output; a stream is a random sequence of them.
    private static readonly string[] s_fragments =
    [
        "a", "log line", " ", "0123456789", "\t", "é", "€", "█", "▌", "😀", "ü€z", "████▏     ",
        "\n", "\r\n", "\r", "\b", "\b\b", "\u0007", "\u0018",
        "\e[m", "\e[0m", "\e[1;31m", "\e[38;5;196m", "\e[48;2;10;20;30m", "\e[K", "\e[0K", "\e[1K", "\e[2K", "\e[3K",
        "\e[D", "\e[3D", "\e[C", "\e[5C", "\e[99999C", "\e[G", "\e[4G", "\e[12`", "\e[2a", "\e[2J", "\e[H", "\e[1;1H",
        "\e[?25l", "\e[?1049h", "\e[>4;1m", "\e[0 q", "\e[" + new string('1', 40) + "D", "\e[3;4:5K",
        "\e[" + new string('0', 31) + "2D", "\e[" + new string('0', 32) + "2D",
        "\e]0;title\u0007", "\e]2;title\e\\", "\e]8;;https://example.com/\e\\", "\e]0;t\u0018", "\e]0;t\e[31m",
        "\ePq#0;2;0;0;0#0!10~\e\\", "\eXsos\e\\", "\e^pm\e\\", "\e_apc\e\\", "\ePdata\u001a",
        "\e(B", "\e)0", "\e7", "\e8", "\e=", "\eM", "\ec", "\e#8", "\e%G", "\e", "\e\e[1m", "\e[", "\e]", "\e[1",
    ];

    // Bytes that are not valid UTF-8, alone or as truncated and overlong sequences.
    private static readonly byte[][] s_invalid =
    [
        [0xFF], [0xFE], [0x80], [0xBF], [0xC3], [0xE2, 0x82], [0xF0, 0x9F, 0x98], [0xED, 0xA0, 0x80], [0xC0, 0xAF], [0x9B],
    ];

    public static TheoryData<int> Seeds => [.. Enumerable.Range(1, 40)];

    [Theory]
    [MemberData(nameof(Seeds))]
    public void RandomStream_InRandomReads_IsStoredAsTheReferenceStoresIt(int seed)
    {
        var random = new Random(seed);
        byte[] stream = RandomStream(random);

        // The same reads for both: how a read ends decides which bytes form one piece of overwriting text.
        var reads = new List<int>();
        for (int offset = 0; offset < stream.Length;)
        {
            int size = random.Next(4) switch
            {
                0 => random.Next(1, 8),
                1 => random.Next(1, 200),
                2 => 4093,
                _ => random.Next(1, 65_537),
            };
            size = Math.Min(size, stream.Length - offset);
            reads.Add(size);
            offset += size;
        }

        AssertSameAsReference(stream, reads, $"seed {seed}");
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void RandomStream_InOneRead_IsStoredAsTheReferenceStoresIt(int seed)
    {
        byte[] stream = RandomStream(new Random(seed));

        AssertSameAsReference(stream, [stream.Length], $"seed {seed}");
    }

    [Fact]
    public void ProgressBarOfUnicodeBlocks_LongerThanOneVector_IsOverwrittenCellForCell()
    {
        // 40 cells of 1 to 3 bytes, redrawn in every mix: the vectorized cell count covers 16 bytes at a time.
        var raw = new StringBuilder();
        string[] cells = ["█", " ", "▌", "#", "é"];
        var random = new Random(5);
        for (int redraw = 0; redraw < 300; redraw++)
        {
            raw.Append('\r');
            int width = random.Next(1, 60);
            for (int i = 0; i < width; i++)
            {
                raw.Append(cells[random.Next(cells.Length)]);
            }
        }

        byte[] stream = Encoding.UTF8.GetBytes(raw.Append('\n').ToString());

        AssertSameAsReference(stream, [stream.Length], "one read");
        AssertSameAsReference(stream, Enumerable.Repeat(7, stream.Length / 7).Append(stream.Length % 7).ToList(), "7-byte reads");
    }

    [Fact]
    public void LongLinesAroundTheLimit_WithOverwritesAndColours_AreStoredAsTheReferenceStoresThem()
    {
        var raw = new StringBuilder();
        foreach (int length in new[] { Max - 1, Max, Max + 1, (2 * Max) + 5, 100_000 })
        {
            raw.Append(new string('x', length)).Append('\n');
            raw.Append("\e[31m").Append(new string('y', length)).Append("\e[0m\r\n");
            raw.Append(new string('z', length)).Append("\r€€€\e[5C\e[1K!").Append('\n');
        }

        byte[] stream = Encoding.UTF8.GetBytes(raw.ToString());

        AssertSameAsReference(stream, [stream.Length], "one read");
        AssertSameAsReference(stream, Enumerable.Repeat(65_536, stream.Length / 65_536).Append(stream.Length % 65_536).ToList(), "64 KiB reads");
        AssertSameAsReference(stream, Enumerable.Repeat(4093, stream.Length / 4093).Append(stream.Length % 4093).ToList(), "4093-byte reads");
    }

    [Fact]
    public void Reference_AgreesWithTheHandWrittenCases()
    {
        // The model is only worth comparing against if it stores what the hand-checked cases say.
        foreach (object[] row in TerminalProcessorTests.Sequences)
        {
            var reference = new ReferenceTerminal();
            reference.Process(Encoding.UTF8.GetBytes((string)row[0]));

            Assert.Equal((string)row[1], Encoding.UTF8.GetString(reference.Output));
        }
    }

    private static byte[] RandomStream(Random random)
    {
        var stream = new List<byte>();
        int pieces = random.Next(50, 400);
        for (int i = 0; i < pieces; i++)
        {
            switch (random.Next(40))
            {
                case 0:
                    stream.AddRange(s_invalid[random.Next(s_invalid.Length)]);
                    break;
                case 1:
                    // A long run: crosses the 32 KiB line limit now and then.
                    stream.AddRange(Encoding.UTF8.GetBytes(new string(random.Next(3) == 0 ? '█' : 'x', random.Next(100, 40_000))));
                    break;
                case 2:
                    stream.AddRange(Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("line of plain text\r\n", random.Next(1, 200)))));
                    break;
                default:
                    stream.AddRange(Encoding.UTF8.GetBytes(s_fragments[random.Next(s_fragments.Length)]));
                    break;
            }
        }

        return [.. stream];
    }

    private static void AssertSameAsReference(byte[] stream, List<int> reads, string what)
    {
        var processor = new TerminalProcessor();
        var output = new ArrayBufferWriter<byte>();
        var reference = new ReferenceTerminal();
        int offset = 0;
        foreach (int size in reads)
        {
            processor.Process(stream.AsSpan(offset, size), output);
            reference.Process(stream.AsSpan(offset, size));
            offset += size;

            Assert.True(reference.HasPendingLine == processor.HasPendingLine, $"{what}: pending line after byte {offset}");
        }

        processor.Flush(output);
        reference.Flush();

        byte[] expected = reference.Output;
        int mismatch = expected.AsSpan().CommonPrefixLength(output.WrittenSpan);
        Assert.True(
            mismatch == expected.Length && mismatch == output.WrittenCount,
            $"{what}: {expected.Length} bytes expected, {output.WrittenCount} stored, first difference at byte {mismatch}");
    }
}
