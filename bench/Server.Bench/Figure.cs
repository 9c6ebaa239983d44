using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace LogQuota.Server.Bench;

/// <summary>One row of the shared benchmark result format (bench/run collects them).</summary>
internal sealed record Figure(
    string Id,
    [property: JsonPropertyName("figure")] string Name,
    double Value,
    string Unit,
    string? Baseline,
    double? BaselineValue,
    double? Ratio,
    string Goal,
    bool Met,
    string? Note)
{
    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        WriteIndented = true,
    };

    public static async Task WriteAsync(string path, IReadOnlyList<Figure> figures)
    {
        if (Path.GetDirectoryName(Path.GetFullPath(path)) is { } dir)
        {
            Directory.CreateDirectory(dir);
        }

        await using var file = File.Create(path);
        await JsonSerializer.SerializeAsync(file, new { figures }, Json);
    }

    public static void Print(IReadOnlyList<Figure> figures)
    {
        Console.WriteLine($"{"figure",-58} {"value",12} {"baseline",12} {"ratio",6}  {"goal",-28} met");
        foreach (var f in figures)
        {
            var baseline = f.BaselineValue is { } b ? $"{b:0.0} {f.Unit}" : "-";
            var ratio = f.Ratio is { } r ? $"{r:0.00}" : "-";
            Console.WriteLine($"{f.Name,-58} {$"{f.Value:0.0} {f.Unit}",12} {baseline,12} {ratio,6}  {f.Goal,-28} {(f.Met ? "yes" : "NO")}");
            if (f.Note is not null)
            {
                Console.WriteLine($"    {f.Note}");
            }
        }
    }
}
