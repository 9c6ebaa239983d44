using System.Text;

namespace LogQuota.Server.Tests.Infrastructure;

/// <summary>
/// Makes a job's lines separate log events whatever the machine's load. Lines written a moment apart are one event
/// when the runner reads them in one go, which a busy machine makes likely (a fixture whose job slept 0.05 s between
/// lines got one event under the CI stress). A gated job waits, between groups of lines, for a file the test creates
/// only once the group before is stored, so that group's events were stored before the next line existed.
/// </summary>
/// <param name="every">Lines printed between two gates: a job of N lines stores at least N / <paramref name="every"/> events.</param>
public sealed class LogGates(int every = 1)
{
    // In the shared temporary directory: a job under a uid of its own can look for a file there.
    private readonly string _prefix = Path.Combine(Path.GetTempPath(), $"logquota-gate-{Guid.NewGuid():N}");

    /// <summary>The commands of a job that prints each of <paramref name="lines"/> and waits for a gate after each group.</summary>
    public string[] Commands(params string[] lines)
    {
        ArgumentNullException.ThrowIfNull(lines);
        return [.. lines.SelectMany((line, i) => i == 0 || i % every != 0
            ? new[] { $"echo {line}" }
            : [$"until [ -e {_prefix}-{i / every} ]; do sleep 0.05; done", $"echo {line}"])];
    }

    /// <summary>
    /// Opens the gates of <paramref name="runName"/>, whose job came from <see cref="Commands"/> with <paramref name="lines"/>,
    /// one at a time, each once the line before it is in the stored logs; returns when the run has ended, its gates
    /// removed.
    /// </summary>
    public async Task RunThroughAsync(HttpClient client, string runName, params string[] lines)
    {
        ArgumentNullException.ThrowIfNull(lines);
        var gates = (lines.Length - 1) / every;
        try
        {
            for (var gate = 1; gate <= gates; gate++)
            {
                var before = lines[(gate * every) - 1] + "\n";
                var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
                while (!Encoding.UTF8.GetString(await client.GetLogsTextAsync(runName)).Contains(before, StringComparison.Ordinal))
                {
                    Assert.True(DateTime.UtcNow < deadline, $"Waited 90 s for the line '{before.TrimEnd()}' of run {runName} to be stored.");
                    await Task.Delay(20);
                }

                await File.WriteAllTextAsync($"{_prefix}-{gate}", "");
            }

            await client.WaitForEndAsync(runName);
        }
        finally
        {
            for (var gate = 1; gate <= gates; gate++)
            {
                File.Delete($"{_prefix}-{gate}");
            }
        }
    }
}
