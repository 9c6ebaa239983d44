using System.Text.Json;

namespace LogQuota.Runner.Tests.Logs;

/// <summary>
/// The committed goldens are what <c>tests/oracle/render.mjs</c> renders today, so a change to the renderer or to
/// the pinned xterm.js cannot leave the other tests comparing with stale text. Needs node and <c>npm ci</c> in
/// tests/oracle; skipped with the reason otherwise.
/// </summary>
public sealed class OracleGoldenTests
{
    [SkippableFact]
    public void CorpusAndSequenceGoldens_AreWhatTheOracleRendersToday()
    {
        string? whyNot = Oracle.WhyNoNode();
        Skip.If(whyNot is not null, whyNot);

        var cases = new List<(string Name, byte[] Input, string Golden)>();
        foreach (var raw in Directory.GetFiles(Oracle.CorpusDir, "*.raw").Order(StringComparer.Ordinal))
        {
            cases.Add((Path.GetFileName(raw), File.ReadAllBytes(raw), File.ReadAllText(Path.ChangeExtension(raw, ".golden"))));
        }

        using var sequences = JsonDocument.Parse(File.ReadAllText(Path.Combine(Oracle.LogsDir, "sequences.json")));
        foreach (var entry in sequences.RootElement.EnumerateArray())
        {
            cases.Add(("sequences.json " + entry.GetProperty("name").GetString(),
                Convert.FromBase64String(entry.GetProperty("input").GetString()!), entry.GetProperty("golden").GetString()!));
        }

        var rendered = Oracle.Render([.. cases.Select(c => c.Input)]);

        var stale = cases.Where((c, i) => rendered[i] != c.Golden).Select(c => c.Name).ToList();
        Assert.True(cases.Count > 80, $"only {cases.Count} goldens found");
        Assert.True(stale.Count == 0, "goldens differ from render.mjs (run tests/oracle/regenerate.sh): " + string.Join(", ", stale));
    }
}
