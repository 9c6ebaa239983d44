using System.Text;
using LogQuota.Runner.Quota;

namespace LogQuota.Runner.Tests.Quota;

public sealed class RepeatedLinesTests
{
    [Fact]
    public void SkewedInput_TopFiveAreTheHeavyLines_WithExactCounts()
    {
        var sketch = new RepeatedLines();
        var random = new Random(7);
        var heavy = new[] { "CUDA warning: retrying", "loss=nan", "Epoch 1/1 0%", "WARN: slow disk", "GET /health 200" };
        var expected = new Dictionary<string, long>();

        // 1 000 000 lines: the five heavy lines make up 30 % between them, the rest are unique.
        for (var i = 0; i < 1_000_000; i++)
        {
            var roll = random.Next(100);
            var line = roll < 30 ? heavy[roll % 5] : $"unique line {i}";
            if (roll < 30)
            {
                expected[line] = expected.GetValueOrDefault(line) + 1;
            }

            sketch.Add(Encoding.UTF8.GetBytes(line));
        }

        var top = sketch.Top(5);
        Assert.Equal(expected.Keys.Order(), top.Select(t => t.Line).Order());
        foreach (var line in top)
        {
            // Space-Saving never undercounts, and overcounts by at most the error it reports.
            Assert.InRange(expected[line.Line], line.Count - line.Error, line.Count);
        }
    }

    [Fact]
    public void Memory_IsBounded_WhateverTheNumberOfDistinctLines()
    {
        var sketch = new RepeatedLines();
        for (var i = 0; i < 10_000; i++)
        {
            sketch.Add(Encoding.UTF8.GetBytes($"warm-up {i}"));
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        var line = new byte[1000];
        for (var i = 0; i < 200_000; i++)
        {
            BitConverter.TryWriteBytes(line, i);
            sketch.Add(line);
        }

        // 200 MB of distinct lines cost (next to) nothing: the counters and samples are allocated once. (The
        // runtime may charge a few bytes of its own to the thread, hence not an exact 0.)
        Assert.InRange(GC.GetAllocatedBytesForCurrentThread() - before, 0, 4096);
        Assert.Equal(210_000, sketch.Total);
        Assert.All(sketch.Top(5), t => Assert.True(Encoding.UTF8.GetByteCount(t.Line) <= RepeatedLines.SampleBytes * 3));
    }

    [Fact]
    public void DistinctLinesThenARepeat_ReportsOnlyTheRepeat_WithItsGuaranteedCount()
    {
        var sketch = new RepeatedLines();
        for (var i = 0; i < 3000; i++)
        {
            sketch.Add(Encoding.UTF8.GetBytes($"{i}"));
        }

        for (var i = 0; i < 50; i++)
        {
            sketch.Add("CUDA warning: retrying"u8);
        }

        // Every counter now carries an error from the distinct lines; only a line surely seen twice is "repeated".
        var top = Assert.Single(sketch.Top(5));
        Assert.Equal("CUDA warning: retrying", top.Line);
        Assert.InRange(50, top.Count - top.Error, top.Count);
    }

    [Fact]
    public void AddLines_SplitsOnNewlines_AndKeepsAShortSample()
    {
        var sketch = new RepeatedLines();
        var longLine = new string('y', 5000);

        sketch.AddLines(Encoding.UTF8.GetBytes($"a\nb\na\n{longLine}\n{longLine}\n{longLine}\n{longLine}\na\nb\nlast"));

        var top = sketch.Top(5);
        Assert.Equal(10, sketch.Total);
        Assert.Equal(new string('y', RepeatedLines.SampleBytes), top[0].Line);
        Assert.Equal((4L, 1L), (top[0].Count, top[0].Error)); // the doorkeeper's first sighting may be another line's
        Assert.Equal(("a", 3L), (top[1].Line, top[1].Count));
        Assert.Equal(2, top.Count); // "b" twice is only surely once: the doorkeeper's first sighting may be another line's
    }
}
