using System.Buffers.Binary;
using LogQuota.Server.Configuration;

namespace LogQuota.Server.Apis.Lists;

/// <summary>A position in the runs list: the last row of a page, by (submitted_at, id), newest first.</summary>
public readonly record struct RunCursor(long SubmittedAt, Guid Id);

/// <summary>
/// <c>next_token</c>s of <c>GET /api/runs</c>: the cursor and the filter, signed with an HMAC keyed from the admin token
/// (under another label than the logs tokens, so neither is accepted for the other). A token that was altered or that
/// was issued for the other <c>only_active</c> is refused with 400 rather than answered with a wrong page.
/// </summary>
public sealed class RunsPageTokens(ServerSettings settings)
{
    private const byte Version = 1;
    private const int PayloadLength = 1 + 1 + 8 + 16;

    private readonly TokenSigner _signer = new("logquota-runs-token", settings.AdminToken);

    public string Create(bool onlyActive, RunCursor cursor)
    {
        Span<byte> payload = stackalloc byte[PayloadLength];
        payload[0] = Version;
        payload[1] = onlyActive ? (byte)1 : (byte)0;
        BinaryPrimitives.WriteInt64BigEndian(payload[2..], cursor.SubmittedAt);
        cursor.Id.TryWriteBytes(payload[10..], bigEndian: true, out _);
        return _signer.Seal(payload);
    }

    public bool TryRead(string text, bool onlyActive, out RunCursor cursor)
    {
        cursor = default;
        Span<byte> payload = stackalloc byte[PayloadLength];
        if (!_signer.TryOpen(text, payload) || payload[0] != Version || payload[1] != (onlyActive ? 1 : 0))
        {
            return false;
        }

        cursor = new RunCursor(BinaryPrimitives.ReadInt64BigEndian(payload[2..]), new Guid(payload[10..], bigEndian: true));
        return true;
    }
}
