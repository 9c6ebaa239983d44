using System.Buffers.Binary;
using LogQuota.Server.Configuration;
using LogQuota.Server.Logs;

namespace LogQuota.Server.Apis;

/// <summary>
/// The <c>next_token</c>s of log searches: where the next page starts (the event after which it reads, the number of
/// that event's first line and the lines of it already read), bound to the job and signed as the logs pages' tokens are.
/// </summary>
public sealed class LogSearchTokens(ServerSettings settings)
{
    private const byte Version = 1;
    private const int PayloadLength = 1 + 1 + 8 + 8 + 8 + 4;

    private readonly TokenSigner _signer = new("logquota-log-search-token", settings.AdminToken);

    public string Create(Guid jobId, LogSearchPosition position)
    {
        Span<byte> payload = stackalloc byte[PayloadLength];
        payload[0] = Version;
        payload[1] = position.After is null ? (byte)0 : (byte)1;
        BinaryPrimitives.WriteInt64BigEndian(payload[2..], position.After?.Timestamp ?? 0);
        BinaryPrimitives.WriteInt64BigEndian(payload[10..], position.After?.Id ?? 0);
        BinaryPrimitives.WriteInt64BigEndian(payload[18..], position.NextLine);
        BinaryPrimitives.WriteInt32BigEndian(payload[26..], position.Skip);
        return _signer.Seal(payload, jobId.ToByteArray());
    }

    public bool TryRead(string text, Guid jobId, out LogSearchPosition position)
    {
        position = default;
        Span<byte> payload = stackalloc byte[PayloadLength];
        if (!_signer.TryOpen(text, payload, jobId.ToByteArray()) || payload[0] != Version || payload[1] > 1)
        {
            return false;
        }

        LogCursor? after = payload[1] == 1
            ? new LogCursor(BinaryPrimitives.ReadInt64BigEndian(payload[2..]), BinaryPrimitives.ReadInt64BigEndian(payload[10..]))
            : null;
        position = new LogSearchPosition(after, BinaryPrimitives.ReadInt64BigEndian(payload[18..]), BinaryPrimitives.ReadInt32BigEndian(payload[26..]));
        return true;
    }
}
