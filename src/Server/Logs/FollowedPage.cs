using System.Text;
using LogQuota.Shared.Contracts;

namespace LogQuota.Server.Logs;

/// <summary>
/// A follower's page of a run's log: the page, whether the job has ended (nothing more will come), and the page as sent,
/// made once for every follower the read is shared with: its JSON for a long poll, and the same JSON as one Server-Sent
/// Events frame for an event stream.
/// </summary>
internal sealed record FollowedPage(LogsResponse Page, bool Ended, byte[] Json)
{
    private static readonly byte[] FrameStart = Encoding.ASCII.GetBytes("event: page\ndata: ");
    private static readonly byte[] FrameEnd = Encoding.ASCII.GetBytes("\n\n");

    private byte[]? _frame;

    /// <summary><c>event: page</c> with the JSON as its one data line (serialized JSON holds no line break), built once.</summary>
    public byte[] Frame => _frame ??= [.. FrameStart, .. Json, .. FrameEnd];
}
