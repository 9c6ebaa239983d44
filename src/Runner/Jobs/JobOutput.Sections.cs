using System.Text;
using LogQuota.Runner.Logs.Sections;
using LogQuota.Runner.Quota;
using LogQuota.Shared.Contracts;

namespace LogQuota.Runner.Jobs;

/// <summary>
/// The section markers on the output path. GitLab's are taken out of the raw output before the terminal (on the screen
/// they erase themselves); GitHub's and Buildkite's are whole stored lines, found after secrets are masked (so titles
/// hold none) and before forged <c>[logquota]</c> lines are defused (so a title cannot pass for one). The text between
/// markers is offered to the quota piece by piece, each mark recorded between the pieces, so that it names the line it
/// comes before; the marker syntax is never offered, stored or counted, while a title stays as its section's first line.
/// </summary>
internal sealed partial class JobOutput : IGitlabMarkerSink
{
    private readonly GitlabMarkers _gitlab = new();
    private readonly SectionLines _sectionLines = new();
    private readonly List<SectionLine> _markerLines = [];
    private readonly JobSections _sections = new(journal);

    /// <summary>The verdict of the read in progress: a kill stops what follows in the read.</summary>
    private QuotaVerdict _verdict;

    void IGitlabMarkerSink.Text(ReadOnlySpan<byte> text)
    {
        if (_verdict == QuotaVerdict.Kill)
        {
            _quota.DroppedAfterKill(text);
            return;
        }

        _lines.ResetWrittenCount();
        _terminal.Process(text, _lines);
        _verdict = Worse(_verdict, OfferToQuota(fromScreen: false));
    }

    void IGitlabMarkerSink.Marker(GitlabMarker marker)
    {
        if (_verdict == QuotaVerdict.Kill)
        {
            return;
        }

        var name = secrets is null ? marker.Name : Encoding.UTF8.GetString(secrets.Apply(Encoding.ASCII.GetBytes(marker.Name)));
        if (marker.Start)
        {
            _sections.StartGitlab(name, marker.Collapsed);
        }
        else
        {
            _sections.EndGitlab(name);
        }
    }

    /// <summary>Offers masked stored text in the pieces between its marker lines, recording each marker between them.</summary>
    private QuotaVerdict OfferSections(ReadOnlySpan<byte> masked, int unmasked)
    {
        _markerLines.Clear();
        _sectionLines.Find(masked, _markerLines);
        var verdict = QuotaVerdict.Continue;
        var at = 0;
        foreach (var line in _markerLines)
        {
            verdict = Worse(verdict, OfferPiece(masked[at..line.Start], at, unmasked));
            if (verdict == QuotaVerdict.Kill)
            {
                return verdict;
            }

            at = line.Start + line.Removed;
            var title = FirstLine(masked[at..]);
            switch (line.Kind)
            {
                case SectionLineKind.GithubGroup:
                    _sections.StartGroup(LogSectionFormat.Github, line.Name, title, line.Collapsed);
                    break;
                case SectionLineKind.GithubEnd:
                    _sections.EndGithub();
                    break;
                case SectionLineKind.BuildkiteGroup:
                    _sections.StartGroup(LogSectionFormat.Buildkite, line.Name, title, line.Collapsed);
                    break;
                case SectionLineKind.BuildkiteExpand:
                    _sections.ExpandBuildkite();
                    break;
            }
        }

        return Worse(verdict, OfferPiece(masked[at..], at, unmasked));
    }

    /// <summary>A piece between markers: a GitLab section waiting for its header takes the piece's first line as it.</summary>
    private QuotaVerdict OfferPiece(ReadOnlySpan<byte> piece, int offset, int unmasked)
    {
        if (piece.IsEmpty)
        {
            return QuotaVerdict.Continue;
        }

        if (_sections.HasPending)
        {
            _sections.TakePending(FirstLine(piece));
        }

        return OfferSegment(piece, offset, unmasked);
    }

    private static string FirstLine(ReadOnlySpan<byte> text)
    {
        var end = text.IndexOf((byte)'\n');
        var line = end < 0 ? text : text[..end];
        return Encoding.UTF8.GetString(line[..Math.Min(line.Length, 4 * JobSections.MaxTitle)]);
    }

    private static QuotaVerdict Worse(QuotaVerdict a, QuotaVerdict b) => a == QuotaVerdict.Kill ? a : b;
}
