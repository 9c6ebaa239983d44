using System.Buffers;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using LogQuota.Runner.Logs;

namespace LogQuota.Runner.Tests.Logs;

/// <summary>
/// The terminal emulator the stored log is compared with (SPEC §2): xterm.js headless through
/// <c>tests/oracle/render.mjs</c>, and the files its goldens live in. Tests read the files in place in
/// the repository (found by walking up to <c>LogQuota.sln</c>), so regenerating a golden needs no rebuild.
/// </summary>
internal static class Oracle
{
    public static readonly string RepositoryRoot = FindRepositoryRoot();

    public static readonly string OracleDir = Path.Combine(RepositoryRoot, "tests", "oracle");

    public static readonly string LogsDir = Path.Combine(RepositoryRoot, "tests", "Runner.Tests", "Logs");

    public static readonly string CorpusDir = Path.Combine(LogsDir, "Corpus");

    /// <summary>Why the live oracle cannot run here (no node or no <c>npm ci</c> in tests/oracle), or null.</summary>
    public static string? WhyNoNode()
    {
        if (!Directory.Exists(Path.Combine(OracleDir, "node_modules", "@xterm", "headless")))
        {
            return $"xterm.js is not installed: run `npm ci` in {OracleDir} (needs node).";
        }

        return FindOnPath("node") is null ? "node is not on PATH." : null;
    }

    /// <summary>Renders every input in one node process (start-up costs ~100 ms, a case ~1 ms).</summary>
    public static IReadOnlyList<string> Render(IReadOnlyList<byte[]> inputs)
    {
        var start = new ProcessStartInfo("node", [Path.Combine(OracleDir, "render.mjs"), "--batch"])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardOutputEncoding = Encoding.UTF8,
        };
        using var node = Process.Start(start) ?? throw new InvalidOperationException("node did not start");
        var stdout = node.StandardOutput.ReadToEndAsync();
        var stderr = node.StandardError.ReadToEndAsync();
        node.StandardInput.Write(JsonSerializer.Serialize(inputs.Select(Convert.ToBase64String)));
        node.StandardInput.Close();
        if (!node.WaitForExit(TimeSpan.FromSeconds(60)))
        {
            node.Kill();
            throw new TimeoutException("render.mjs took longer than 60 s");
        }

        if (node.ExitCode != 0)
        {
            throw new InvalidOperationException($"render.mjs exited {node.ExitCode}: {stderr.Result}");
        }

        return JsonSerializer.Deserialize<string[]>(stdout.Result) ?? [];
    }

    /// <summary>What the processor stores for <paramref name="input"/> given in reads of <paramref name="splits"/> (ascending offsets), then Finish.</summary>
    public static byte[] Store(ReadOnlySpan<byte> input, params ReadOnlySpan<int> splits)
    {
        var processor = new TerminalProcessor();
        var stored = new ArrayBufferWriter<byte>();
        int offset = 0;
        foreach (int split in splits)
        {
            processor.Process(input[offset..split], stored);
            offset = split;
        }

        processor.Process(input[offset..], stored);
        processor.Finish(stored);
        return stored.WrittenSpan.ToArray();
    }

    /// <summary>
    /// Null when equal; otherwise a readable account of the first differing line: its number, both sides
    /// (control characters made visible) and the sizes.
    /// </summary>
    public static string? Diff(string expected, string actual)
    {
        if (expected == actual)
        {
            return null;
        }

        string[] want = expected.Split('\n');
        string[] got = actual.Split('\n');
        int line = 0;
        while (line < want.Length && line < got.Length && want[line] == got[line])
        {
            line++;
        }

        static int Lines(string text) => text.Count(c => c == '\n') + (text.Length > 0 && text[^1] != '\n' ? 1 : 0);
        static string Show(string[] lines, int i) => i < lines.Length ? $"\"{Visible(lines[i])}\"" : "(no such line)";
        return $"stored log differs from the emulator at line {line + 1} " +
            $"(expected {Encoding.UTF8.GetByteCount(expected)} bytes in {Lines(expected)} lines, got {Encoding.UTF8.GetByteCount(actual)} bytes in {Lines(actual)} lines)\n" +
            $"  emulator: {Show(want, line)}\n" +
            $"  stored:   {Show(got, line)}";
    }

    public static string Visible(string text)
    {
        var builder = new StringBuilder(text.Length);
        foreach (char c in text)
        {
            builder.Append(c switch
            {
                '\e' => "\\e",
                '\r' => "\\r",
                '\t' => "\\t",
                < ' ' or '\u007f' => $"\\x{(int)c:x2}",
                _ => c.ToString(),
            });
        }

        return builder.ToString();
    }

    private static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "LogQuota.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"no LogQuota.sln above {AppContext.BaseDirectory}");
    }

    public static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, name)).FirstOrDefault(File.Exists);
}
