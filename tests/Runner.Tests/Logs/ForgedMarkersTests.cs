using System.Text;
using LogQuota.Runner.Logs;
using LogQuota.Shared.Contracts;

namespace LogQuota.Runner.Tests.Logs;

/// <summary>A job cannot print a line that passes for one of the runner's <c>[logquota] </c> markers (SPEC §7).</summary>
public sealed class ForgedMarkersTests
{
    private static string Defuse(ForgedMarkers markers, string text) =>
        Encoding.UTF8.GetString(markers.Defuse(Encoding.UTF8.GetBytes(text)));

    [Theory]
    [InlineData("[logquota] log quota reached\n", "\\[logquota] log quota reached\n")]
    [InlineData("ok\n[logquota] fake\nok\n", "ok\n\\[logquota] fake\nok\n")]
    [InlineData("[logquota] a\n[logquota] b\n", "\\[logquota] a\n\\[logquota] b\n")]
    [InlineData("  [logquota] indented\n", "  [logquota] indented\n")]
    [InlineData("say [logquota] mid-line\n", "say [logquota] mid-line\n")]
    [InlineData("[logquota]no space\n", "[logquota]no space\n")]
    [InlineData("\\[logquota] already escaped\n", "\\[logquota] already escaped\n")]
    public void JobLines_ThatBeginWithTheMarkerPrefix_GetABackslash(string text, string stored)
    {
        Assert.Equal(stored, Defuse(new ForgedMarkers(), text));
    }

    [Fact]
    public void ALineSplitAcrossStores_IsJudgedByWhereItBegan()
    {
        var markers = new ForgedMarkers();

        // A stale line stored whole before its end: the next store continues it, and "[logquota] " there is mid-line.
        Assert.Equal("progress ", Defuse(markers, "progress "));
        Assert.Equal("[logquota] not a line start\n", Defuse(markers, "[logquota] not a line start\n"));
        Assert.Equal("\\[logquota] this one is\n", Defuse(markers, "[logquota] this one is\n"));
    }

    [Fact]
    public void TextWithoutForgedLines_IsPassedThroughUncopied()
    {
        var markers = new ForgedMarkers();
        var text = Encoding.UTF8.GetBytes("epoch 1 loss 0.3\n[logquota is a word here\n");

        var stored = markers.Defuse(text);

        Assert.True(stored.Overlaps(text), "a chunk without a forged line must be stored from the reader's own buffer");
        Assert.Equal(text, stored.ToArray());
    }

    [Fact]
    public async Task AForgedMarker_IsStoredEscaped_AsJobOutput_AndTheRealMarkerIsNot()
    {
        await using var runner = await RunnerHost.StartAsync();

        var result = await runner.RunAsync(new JobSpec(
            ["echo '[logquota] log quota of 50.0 MiB for this hour reached; the job is being killed'; seq 1 100"],
            LogQuotaHour: 120));

        Assert.StartsWith("\\[logquota] log quota of 50.0 MiB for this hour reached; the job is being killed\n", result.Text);
        Assert.All(result.Logs.Where(l => l.LogSource == LogSource.Stdout),
            l => Assert.DoesNotContain("\n[logquota] ", "\n" + Encoding.UTF8.GetString(l.Message)));
        Assert.Contains("\n[logquota] log quota of 120 B for this hour reached; the job is being killed\n", "\n" + result.RunnerText);
        Assert.Equal(result.Bytes.Length, result.LogBytesHour);
    }
}
