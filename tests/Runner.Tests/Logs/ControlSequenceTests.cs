using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace LogQuota.Runner.Tests.Logs;

/// <summary>
/// One case per control sequence of SPEC §2, with its golden text from xterm.js (<c>sequences.json</c>, written by
/// <c>sequences.py</c> from its hand-written list): the whole input must be stored as the emulator shows it, and
/// the input cut into two reads anywhere inside the sequence under test, or inside a multi-byte character, must be
/// stored exactly as the whole input is.
/// </summary>
public sealed class ControlSequenceTests
{
    private static readonly Lazy<Dictionary<string, SequenceCase>> s_cases = new(Load);

    public static TheoryData<string> Names => [.. s_cases.Value.Keys];

    [Theory]
    [MemberData(nameof(Names))]
    public void WholeInput_IsStoredAsTheEmulatorShowsIt(string name)
    {
        var c = s_cases.Value[name];

        string stored = Encoding.UTF8.GetString(Oracle.Store(c.Bytes));

        string? diff = Oracle.Diff(c.Golden, stored);
        Assert.True(diff is null, $"{name} (input \"{Oracle.Visible(Encoding.UTF8.GetString(c.Bytes))}\"): {diff}");
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void InputSplitInsideTheSequence_IsStoredAsTheWholeInput(string name)
    {
        var c = s_cases.Value[name];
        byte[] whole = Oracle.Store(c.Bytes);
        var splits = SplitPoints(c).ToList();
        Assert.NotEmpty(splits);

        foreach (int split in splits)
        {
            byte[] stored = Oracle.Store(c.Bytes, split);
            if (!stored.AsSpan().SequenceEqual(whole))
            {
                string shown = Oracle.Visible(Encoding.UTF8.GetString(c.Bytes, 0, split)) + "|" + Oracle.Visible(Encoding.UTF8.GetString(c.Bytes, split, c.Bytes.Length - split));
                Assert.Fail($"{name} split at byte {split} (\"{shown}\"): {Oracle.Diff(Encoding.UTF8.GetString(whole), Encoding.UTF8.GetString(stored))}");
            }
        }
    }

    [Fact]
    public void Cases_CoverEverySequenceTheSpecNames()
    {
        // A prefix per item of SPEC §2 and the list; a case that is renamed away fails here.
        string[] required =
        [
            "autowrap_", "cr_", "lf_", "bs_", "tab_", "cht_", "cbt_", "hts_", "tbc_", "cuu_", "cud_", "cuf_", "cub_", "cnl_", "cpl_",
            "cha_", "cup_", "hvp_", "vpa_", "ri_", "ind_", "nel_", "decsc_", "scosc_", "decstbm_region_from_row_1", "decstbm_region_lower",
            "ed_0", "ed_1", "ed_2", "el_0", "el_1", "el_2", "ech_", "ich_", "dch_", "il_", "dl_", "su_", "sd_", "rep_",
            "alt_screen_1049", "alt_screen_47", "alt_screen_1047", "origin_mode", "autowrap_off", "wide_cjk", "emoji", "combining_marks",
            "dec_special_graphics", "osc_bel", "osc_st", "dcs_", "sgr_", "scroll_of_more_than_50_lines",
        ];
        var missing = required.Where(prefix => !s_cases.Value.Keys.Any(k => k.StartsWith(prefix, StringComparison.Ordinal))).ToList();
        Assert.True(missing.Count == 0, "no case for: " + string.Join(", ", missing));
    }

    /// <summary>Every byte index strictly inside a sequence under test or inside a multi-byte UTF-8 character.</summary>
    private static SortedSet<int> SplitPoints(SequenceCase c)
    {
        var points = new SortedSet<int>();
        foreach (var range in c.Focus)
        {
            for (int i = range[0] + 1; i < range[1]; i++)
            {
                points.Add(i);
            }
        }

        for (int i = 1; i < c.Bytes.Length; i++)
        {
            if ((c.Bytes[i] & 0xC0) == 0x80)
            {
                points.Add(i);
            }
        }

        return points;
    }

    private static Dictionary<string, SequenceCase> Load()
    {
        var path = Path.Combine(Oracle.LogsDir, "sequences.json");
        var cases = JsonSerializer.Deserialize<List<SequenceCase>>(File.ReadAllText(path)) ?? [];
        return cases.ToDictionary(c => c.Name, StringComparer.Ordinal);
    }

    private sealed record SequenceCase(
        [property: JsonPropertyName("name")] string Name,
        [property: JsonPropertyName("input")] string Input,
        [property: JsonPropertyName("focus")] int[][] Focus,
        [property: JsonPropertyName("golden")] string Golden)
    {
        public byte[] Bytes { get; } = Convert.FromBase64String(Input);
    }
}
