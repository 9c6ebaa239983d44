using System.Text;
using LogQuota.Shared.Contracts;

namespace LogQuota.Runner.Tests;

/// <summary>
/// A real job on a real runner prints GitLab's, GitHub's and Buildkite's section markers, some split over two writes a
/// moment apart, under a pseudo-terminal and on a pipe: the pulled log holds no marker and counts none, and the pulls
/// carry the marks at the lines they name.
/// </summary>
public sealed class SectionJobTests : IAsyncLifetime
{
    private const string Script =
        "printf 'start\\n'; " +
        "printf '\\033[0Ksection_st'; sleep 0.3; printf 'art:%s:build[collapsed=true]\\r\\033[0KBuilding\\n' \"$(date +%s)\"; " +
        "printf '::gr'; sleep 0.3; printf 'oup::Compile\\ncc a.c\\n::endgroup::\\n'; " +
        "printf '\\033[0Ksection_end:%s:build\\r\\033[0K\\n' \"$(date +%s)\"; " +
        "printf -- '--- Tests\\nok\\n^^^ +++\\n'; exit 2";

    private const string Text = "start\nBuilding\nCompile\ncc a.c\nTests\nok\n";

    private RunnerHost _runner = null!;

    public async Task InitializeAsync() => _runner = await RunnerHost.StartAsync();

    public async Task DisposeAsync() => await _runner.DisposeAsync();

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Markers_AreTakenOut_AndPulledAsMarksAtTheirLines(bool tty)
    {
        var result = await _runner.RunAsync(new JobSpec([Script], Tty: tty));

        Assert.Equal(JobState.Failed, result.Final.State);
        Assert.Equal(Text, result.AllText);
        Assert.Equal(Encoding.UTF8.GetByteCount(Text), result.LogBytesHour);
        Assert.Equal(
            [
                (LogSectionMarkKind.Start, 1, 2L, (LogSectionFormat?)LogSectionFormat.Gitlab, "Building", (int?)null),
                (LogSectionMarkKind.Start, 2, 3L, LogSectionFormat.Github, "Compile", 1),
                (LogSectionMarkKind.End, 2, 5L, null, null, null),
                (LogSectionMarkKind.End, 1, 5L, null, null, null),
                (LogSectionMarkKind.Start, 3, 5L, LogSectionFormat.Buildkite, "Tests", null),
                (LogSectionMarkKind.Expand, 3, 7L, null, null, null),
            ],
            result.Sections.Select(m => (m.Kind, m.Section, m.Line, m.Format, m.Title, m.Parent)));
        Assert.True(result.Sections.Zip(result.Sections.Skip(1)).All(p => p.First.Timestamp < p.Second.Timestamp));
    }
}
