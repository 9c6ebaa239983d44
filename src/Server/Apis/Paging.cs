using System.Globalization;
using Microsoft.EntityFrameworkCore;

namespace LogQuota.Server.Apis;

/// <summary>
/// Keyset paging, shared by the runs list and the logs: the query values every list reads (<c>limit</c>, flags), and
/// the page itself, read as <c>limit + 1</c> rows so the extra row only tells that a next page exists.
/// </summary>
internal static class Paging
{
    /// <summary>Reads <c>limit</c>: a whole number from 1 to <paramref name="max"/>, <paramref name="fallback"/> when absent.</summary>
    public static bool TryParseLimit(string? text, int fallback, int max, out int limit, out string problem) =>
        TryParseCount("limit", "a whole number", text, fallback, max, out limit, out problem);

    /// <summary>Reads a query value named <paramref name="name"/> that counts something (<paramref name="what"/>, as the
    /// 400 says it): a whole number from 1 to <paramref name="max"/>, <paramref name="fallback"/> when absent.</summary>
    public static bool TryParseCount(string name, string what, string? text, int fallback, int max, out int value, out string problem)
    {
        value = fallback;
        problem = $"{name} must be {what} from 1 to {max}, got '{text}'.";
        return text is null || (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value) && value >= 1 && value <= max);
    }

    /// <summary>Reads a true/false query value named <paramref name="name"/>; false when absent.</summary>
    public static bool TryParseFlag(string name, string? text, out bool value, out string problem)
    {
        value = false;
        problem = $"{name} must be true or false, got '{text}'.";
        return text is null || bool.TryParse(text, out value);
    }

    /// <summary>
    /// The first <paramref name="limit"/> rows of <paramref name="ordered"/>, and the token of the next page (made from
    /// the page's last row by <paramref name="tokenFor"/>), or null when this page is the last.
    /// </summary>
    public static async Task<(List<T> Rows, string? NextToken)> ReadAsync<T>(
        IQueryable<T> ordered, int limit, Func<T, string> tokenFor, CancellationToken cancellationToken)
    {
        var rows = await ordered.Take(limit + 1).ToListAsync(cancellationToken);
        if (rows.Count <= limit)
        {
            return (rows, null);
        }

        rows.RemoveAt(limit);
        return (rows, tokenFor(rows[^1]));
    }
}
