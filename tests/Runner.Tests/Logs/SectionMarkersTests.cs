using System.Text;
using LogQuota.Runner.Jobs;
using LogQuota.Runner.Logs;
using LogQuota.Runner.Logs.Sections;
using LogQuota.Shared.Contracts;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace LogQuota.Runner.Tests.Logs;

/// <summary>
/// GitLab's, GitHub's and Buildkite's section markers on a job's output path: taken out of the stored text (never
/// counted), recorded as section marks naming the line they come before, nested where the format nests, whole when
/// split across reads, with titles masked and unable to pass for the runner's lines, and bounded for a hostile job.
/// </summary>
public sealed class SectionMarkersTests : IDisposable
{
    private const string Gitlab = "\e[0Ksection_start:1700000000:";
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("logquota-sections-");

    public void Dispose() => _dir.Delete(recursive: true);

    private static string Start(string name, string options = "") => $"{Gitlab}{name}{options}\r\e[0K";

    private static string End(string name) => $"\e[0Ksection_end:1700000009:{name}\r\e[0K";

    private static readonly string NestedGitlab =
        "before\r\n" +
        Start("build", "[collapsed=true]") + "Building\r\n" +
        "compiling\r\n" +
        Start("tests") + "Testing\r\n" +
        "ok 1\r\n" +
        End("tests") + "\r\n" +
        End("build") + "\r\n" +
        "after\r\n";

    [Fact]
    public void Gitlab_NestedSections_AreMarkedAtTheirLines_AndTheMarkersAreNeitherStoredNorCounted()
    {
        var (output, journal) = Create();

        output.Read(Encoding.UTF8.GetBytes(NestedGitlab));
        output.Finish();

        var (text, marks) = Read(journal);
        Assert.Equal("before\nBuilding\ncompiling\nTesting\nok 1\nafter\n", text);
        Assert.Equal(Encoding.UTF8.GetByteCount(text), output.BytesThisHour);
        AssertMarks(marks,
            (LogSectionMarkKind.Start, 1, 2L, "build", "Building", null, true),
            (LogSectionMarkKind.Start, 2, 4L, "tests", "Testing", 1, false),
            (LogSectionMarkKind.End, 2, 6L, null, null, null, false),
            (LogSectionMarkKind.End, 1, 6L, null, null, null, false));
        Assert.All(marks.Where(m => m.Kind == LogSectionMarkKind.Start), m => Assert.Equal(LogSectionFormat.Gitlab, m.Format));
    }

    [Fact]
    public void Gitlab_MarkersSplitAcrossReads_AreRecognisedAsInOneRead()
    {
        var (whole, wholeJournal) = Create();
        whole.Read(Encoding.UTF8.GetBytes(NestedGitlab));
        whole.Finish();

        var (split, splitJournal) = Create();
        foreach (var b in Encoding.UTF8.GetBytes(NestedGitlab))
        {
            split.Read([b]);
        }

        split.Finish();

        var (wholeText, wholeMarks) = Read(wholeJournal);
        var (splitText, splitMarks) = Read(splitJournal);
        Assert.Equal(wholeText, splitText);
        Assert.Equal(wholeMarks.Select(m => (m.Kind, m.Section, m.Line, m.Name, m.Title)), splitMarks.Select(m => (m.Kind, m.Section, m.Line, m.Name, m.Title)));
    }

    [Fact]
    public void Gitlab_AMarkerCutOffByTheJobsEnd_IsTextForTheTerminal_AndNotAName()
    {
        var (output, journal) = Create();

        output.Read(Encoding.UTF8.GetBytes("done\r\n" + Gitlab + "unfinished"));
        output.Finish();

        var (text, marks) = Read(journal);
        Assert.Equal("done\nsection_start:1700000000:unfinished\n", text);
        Assert.Empty(marks);
    }

    [Fact]
    public void Github_Groups_AreFlat_AndAGroupInsideAGroupEndsTheFirst()
    {
        var (output, journal) = Create();

        output.Read("::group::Install\r\nnpm ci\r\n::group::Build\r\nnpm run build\r\n::endgroup::\r\n::endgroup::\r\ndone\r\n"u8);

        var (text, marks) = Read(journal);
        Assert.Equal("Install\nnpm ci\nBuild\nnpm run build\ndone\n", text);
        Assert.Equal(Encoding.UTF8.GetByteCount(text), output.BytesThisHour);
        AssertMarks(marks,
            (LogSectionMarkKind.Start, 1, 1L, "group", "Install", null, true),
            (LogSectionMarkKind.End, 1, 3L, null, null, null, false),
            (LogSectionMarkKind.Start, 2, 3L, "group", "Build", null, true),
            (LogSectionMarkKind.End, 2, 5L, null, null, null, false));
    }

    [Fact]
    public void Buildkite_EachGroupEndsTheOneBefore_AndCaretsExpandTheLast()
    {
        var (output, journal) = Create();

        output.Read("--- :package: Install\r\nok\r\n+++ Tests\r\nFAILED\r\n^^^ +++\r\n~~~ Cleanup\r\n"u8);

        var (text, marks) = Read(journal);
        Assert.Equal(":package: Install\nok\nTests\nFAILED\nCleanup\n", text);
        AssertMarks(marks,
            (LogSectionMarkKind.Start, 1, 1L, "---", ":package: Install", null, true),
            (LogSectionMarkKind.End, 1, 3L, null, null, null, false),
            (LogSectionMarkKind.Start, 2, 3L, "+++", "Tests", null, false),
            (LogSectionMarkKind.Expand, 2, 5L, null, null, null, false),
            (LogSectionMarkKind.End, 2, 5L, null, null, null, false),
            (LogSectionMarkKind.Start, 3, 5L, "~~~", "Cleanup", null, true));
    }

    [Fact]
    public void LineMarkers_SplitAcrossReads_AndInsideGitlabSections_Nest()
    {
        var (output, journal) = Create();

        foreach (var piece in new[] { Start("outer"), "Outer\r\n::gro", "up::Inner\r\nx\r\n::endgr", "oup::\r\n", End("outer"), "\r\n" })
        {
            output.Read(Encoding.UTF8.GetBytes(piece));
        }

        var (text, marks) = Read(journal);
        Assert.Equal("Outer\nInner\nx\n", text);
        AssertMarks(marks,
            (LogSectionMarkKind.Start, 1, 1L, "outer", "Outer", null, false),
            (LogSectionMarkKind.Start, 2, 2L, "group", "Inner", 1, true),
            (LogSectionMarkKind.End, 2, 4L, null, null, null, false),
            (LogSectionMarkKind.End, 1, 4L, null, null, null, false));
    }

    [Fact]
    public void Titles_AreMasked_AndCannotPassForTheRunnersLines()
    {
        var (output, journal) = Create(secrets: ["hf_secretvalue123"]);

        output.Read(Encoding.UTF8.GetBytes(
            "::group::token hf_secretvalue123\r\n::endgroup::\r\n" + Start("hf_secretvalue123") + "Header hf_secretvalue123\r\n" +
            "::group::[logquota] quota reached\r\n"));

        var (text, marks) = Read(journal);
        Assert.Equal("token ***\nHeader ***\n\\[logquota] quota reached\n", text);
        var titles = marks.Where(m => m.Kind == LogSectionMarkKind.Start).Select(m => (m.Name, m.Title)).ToList();
        Assert.Equal([("group", "token ***"), ("***", "Header ***"), ("group", "\\[logquota] quota reached")], titles);
        Assert.DoesNotContain(marks, m => (m.Title ?? "").Contains("hf_secret", StringComparison.Ordinal));
    }

    [Fact]
    public void AHostileJobsMarkers_AreBounded_InCountDepthNameAndTitle()
    {
        var (output, journal) = Create();
        var hostile = new StringBuilder();
        for (var i = 0; i < JobSections.MaxDepth + 5; i++)
        {
            hostile.Append(Start($"d{i}")).Append("\r\n");
        }

        for (var i = JobSections.MaxDepth + 4; i >= 0; i--)
        {
            hostile.Append(End($"d{i}")).Append("\r\n");
        }

        for (var i = 0; i < JobSections.MaxSections + 100; i++)
        {
            hostile.Append("::group::").Append(new string('t', 1000)).Append("\r\n");
        }

        hostile.Append(Start(new string('n', GitlabMarkers.MaxName + 1))).Append("long name\r\n");
        hostile.Insert(0, string.Concat(Enumerable.Repeat("^^^ +++\r\n", 10_000))).Insert(0, "--- Group\r\n");

        output.Read(Encoding.UTF8.GetBytes(hostile.ToString()));
        output.Finish();

        var page = journal.Read(journal.View(0), int.MaxValue);
        var starts = page.Sections.Where(m => m.Kind == LogSectionMarkKind.Start).ToList();
        Assert.Equal(JobSections.MaxSections, starts.Count);
        Assert.Single(page.Sections, m => m.Kind == LogSectionMarkKind.Expand); // one group, opened once however often asked
        Assert.Equal(JobSections.MaxDepth - 1, starts.Count(m => m.Format == LogSectionFormat.Gitlab)); // inside the Buildkite group
        Assert.All(starts, m => Assert.True(m.Title!.Length <= JobSections.MaxTitle));
        Assert.Single(page.Events, e => e.Type == JobEventTypes.LogSectionsLimited);
        // The too-long name is no marker: the terminal erases it as a terminal would, and the header stays.
        var stored = Encoding.UTF8.GetString(page.Logs.SelectMany(e => e.Message).ToArray());
        Assert.EndsWith("\nlong name\n", stored[^300..], StringComparison.Ordinal);
    }

    [Fact]
    public void AColouredTitle_KeepsItsColour_OnTheTextLeftAfterTheMarker()
    {
        var (output, journal) = Create();

        output.Read("ok\r\n\e[1;32m::group::Green title\e[0m\r\n"u8);

        var e = journal.Read(journal.View(0), int.MaxValue).Logs.Last();
        Assert.Equal("Green title\n", Encoding.UTF8.GetString(e.Message));
        Assert.Equal([0, 11, 0], e.Styles!.Runs);
        Assert.Equal("1;32", e.Styles.Styles.Single().Sgr);
    }

    [Fact]
    public void OutputWithoutMarkers_IsStoredAsBefore_WithNoMarks()
    {
        var (output, journal) = Create();

        output.Read("--- a/file.c\r\n"u8);
        output.Read("plain\r\n::not a group\r\n---\r\n"u8);

        var (text, marks) = Read(journal);
        Assert.Equal("a/file.c\nplain\n::not a group\n---\n", text);
        Assert.Single(marks); // a diff's "--- " line is a Buildkite group, as Buildkite reads it
    }

    private static void AssertMarks(
        List<LogSectionMark> marks, params (LogSectionMarkKind Kind, int Section, long Line, string? Name, string? Title, int? Parent, bool Collapsed)[] expected) =>
        Assert.Equal(expected, marks.Select(m => (m.Kind, m.Section, m.Line, m.Name, m.Title, m.Parent, m.Collapsed)));

    private (JobOutput Output, JobJournal Journal) Create(string[]? secrets = null)
    {
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-12-06T12:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        var journal = new JobJournal(Guid.NewGuid(), Path.Combine(_dir.FullName, $"{Guid.NewGuid()}.spool"), time, NullLogger.Instance);
        var output = new JobOutput(new JobSpec(["true"], LogQuotaHour: 1_000_000, LogQuotaWarnAt: []), journal, time, fault => Assert.Fail(fault), SecretMask.For(secrets));
        return (output, journal);
    }

    private static (string Text, List<LogSectionMark> Marks) Read(JobJournal journal)
    {
        var page = journal.Read(journal.View(0), int.MaxValue);
        var text = Encoding.UTF8.GetString(page.Logs.Where(e => e.LogSource == LogSource.Stdout).SelectMany(e => e.Message).ToArray());
        return (text, page.Sections);
    }
}
