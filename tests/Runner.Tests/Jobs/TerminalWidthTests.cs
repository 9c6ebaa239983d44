using LogQuota.Shared.Contracts;

namespace LogQuota.Runner.Tests;

/// <summary>A run's <c>columns</c>: the width of the job's real pseudo-terminal, and of the screen its log is stored from.</summary>
public sealed class TerminalWidthTests : IAsyncLifetime
{
    private RunnerHost _runner = null!;

    public async Task InitializeAsync() => _runner = await RunnerHost.StartAsync();

    public async Task DisposeAsync() => await _runner.DisposeAsync();

    [Theory]
    [InlineData(80, "50 80\n80\n")]
    [InlineData(1000, "50 1000\n1000\n")]
    [InlineData(null, "50 200\n200\n")]
    public async Task TheJobsTerminal_IsAsWideAsTheRunAsks(int? columns, string expected)
    {
        var result = await _runner.RunAsync(new JobSpec(["stty size && tput cols"], Columns: columns));

        Assert.Equal(JobState.Done, result.Final.State);
        Assert.Equal(expected, result.Text);
    }

    [Fact]
    public async Task TheStoredScreen_WrapsWhereTheJobsTerminalWraps()
    {
        // 90 characters wrap after 80 on an 80-column terminal: the carriage return goes back to the start of the second
        // row, so "AB" overwrites characters 81 and 82, as xterm shows it; on a 200-column screen it would overwrite the first two.
        var result = await _runner.RunAsync(new JobSpec(["printf '%090d\\rAB\\n' 0"], Columns: 80));

        Assert.Equal(new string('0', 80) + "AB" + new string('0', 8) + "\n", result.Text);
    }
}
