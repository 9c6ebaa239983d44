using System.Buffers;
using System.Text;

namespace LogQuota.Runner.Quota;

/// <summary>Where stored log text is cut when it does not fit in the hourly quota (SPEC §2 "exceeding").</summary>
public static class QuotaCut
{
    /// <summary>
    /// Returns how many bytes of <paramref name="pending"/> to store when only <paramref name="allowed"/> of them
    /// fit: the prefix up to and including the last <c>\n</c> within the first <paramref name="allowed"/> bytes;
    /// without one, when <paramref name="mayCutMidLine"/>, the longest prefix of at most
    /// <paramref name="allowed"/> bytes that does not end inside a UTF-8 character, otherwise 0.
    /// </summary>
    /// <remarks>
    /// <para>
    /// Stored text ends on a whole line whenever the bucket already ends on one (the caller passes
    /// <see cref="HourlyLogQuota.MayCutMidLine"/>): a reader never sees half a line after a whole one. A bucket
    /// that is empty or already ends mid-line may be cut mid-line, so a quota smaller than the first line still
    /// keeps whole characters of it, unlike dstack, which keeps zero bytes.
    /// </para>
    /// <para>
    /// An invalid byte counts as its own character and may be cut after. A valid but incomplete character at the
    /// very end of <paramref name="pending"/> (the rest of it not yet written) counts as one character and is
    /// not split.
    /// </para>
    /// </remarks>
    /// <returns>
    /// A count from 0 to <paramref name="allowed"/>; <paramref name="pending"/>'s length when everything fits,
    /// 0 when <paramref name="allowed"/> is 0 or negative.
    /// </returns>
    public static int Cut(ReadOnlySpan<byte> pending, int allowed, bool mayCutMidLine)
    {
        if (allowed >= pending.Length)
        {
            return pending.Length;
        }

        if (allowed <= 0)
        {
            return 0;
        }

        int lastNewline = pending[..allowed].LastIndexOf((byte)'\n');
        if (lastNewline >= 0)
        {
            return lastNewline + 1;
        }

        return mayCutMidLine ? CharacterBoundaryAtOrBefore(pending, allowed) : 0;
    }

    /// <summary>The largest index at most <paramref name="index"/> (&lt; length) that does not split a character.</summary>
    private static int CharacterBoundaryAtOrBefore(ReadOnlySpan<byte> text, int index)
    {
        if (!IsContinuation(text[index]))
        {
            return index;
        }

        // A UTF-8 character is at most 4 bytes, so its first byte is at most 3 bytes before a continuation byte.
        for (int start = index - 1; start >= 0 && start >= index - 3; start--)
        {
            if (IsContinuation(text[start]))
            {
                continue;
            }

            OperationStatus status = Rune.DecodeFromUtf8(text[start..], out _, out int length);
            bool splitsCharacter = status == OperationStatus.NeedMoreData
                || (status == OperationStatus.Done && start + length > index);
            return splitsCharacter ? start : index;
        }

        return index;
    }

    private static bool IsContinuation(byte b) => (b & 0xC0) == 0x80;
}
