using System.Text;
using LogQuota.Runner.Quota;
using LogQuota.Shared.Contracts;

namespace LogQuota.Runner.Tests.Quota;

/// <summary>What a <see cref="QuotaPolicy"/> stored and recorded, in order.</summary>
internal sealed class RecordingOutput : IQuotaOutput
{
    public List<(LogSource Source, byte[] Bytes)> Stored { get; } = [];

    public List<(string Type, string Message)> Events { get; } = [];

    public long StdoutBytes => Stored.Where(s => s.Source == LogSource.Stdout).Sum(s => (long)s.Bytes.Length);

    public string Stdout => Text(LogSource.Stdout);

    public string Runner => Text(LogSource.Runner);

    /// <summary>Every stored byte in order, as <c>?format=text</c> would show it.</summary>
    public string All => Encoding.UTF8.GetString([.. Stored.SelectMany(s => s.Bytes)]);

    public List<string> Markers => [.. Runner.Split('\n').Where(l => l.StartsWith(QuotaText.MarkerPrefix, StringComparison.Ordinal))];

    public void Append(ReadOnlySpan<byte> text) => Stored.Add((LogSource.Stdout, text.ToArray()));

    public void AppendRunner(ReadOnlySpan<byte> text) => Stored.Add((LogSource.Runner, text.ToArray()));

    public void Event(string type, string message) => Events.Add((type, message));

    private string Text(LogSource source) =>
        Encoding.UTF8.GetString([.. Stored.Where(s => s.Source == source).SelectMany(s => s.Bytes)]);
}
