using System.Runtime.Intrinsics;

namespace LogQuota.Shared.Logs;

/// <summary>
/// The counting step of the Space-Saving algorithm (Metwally, Agrawal, El Abbadi 2005) over <see cref="LineIdentity"/>
/// hashes, shared by a job's sketch (the runner's) and a project hour's (the server's): a held line counts up; a new one
/// takes a free counter, else the smallest, inheriting its count as its error bound. The counters' arrays are the
/// caller's, so it may keep them in memory or store them between pages.
/// </summary>
public static class SpaceSaving
{
    /// <summary>Counts one sighting of <paramref name="hash"/>.</summary>
    /// <param name="hashes">The counters' lines; the first <paramref name="used"/> are held.</param>
    /// <param name="counts">The counters' counts, as long as <paramref name="hashes"/>: a multiple of 4 entries.</param>
    /// <param name="errors">The most each count may overcount by.</param>
    /// <param name="used">Counters held; grows while there are free ones.</param>
    /// <param name="hash">The line's hash.</param>
    /// <param name="sightings">How many sightings a line new to the counters brings (1; 2 behind a doorkeeper that let
    /// its second through, whose first may have been another line's: counted in the error).</param>
    /// <param name="slot">The line's counter.</param>
    /// <returns>True when the line is new to its counter: the caller records its hash and keeps its sample.</returns>
    public static bool Count(Span<ulong> hashes, Span<long> counts, Span<long> errors, ref int used, ulong hash, int sightings, out int slot)
    {
        slot = hashes[..used].IndexOf(hash);
        if (slot >= 0)
        {
            counts[slot]++;
            return false;
        }

        long inherited = 0;
        if (used < hashes.Length)
        {
            slot = used++;
        }
        else
        {
            slot = IndexOfMinimum(counts);
            inherited = counts[slot];
        }

        hashes[slot] = hash;
        errors[slot] = inherited + sightings - 1;
        counts[slot] = inherited + sightings;
        return true;
    }

    /// <summary>The first index of the smallest of <paramref name="counts"/> (a multiple of 4 of them), vectorized: no branch per counter.</summary>
    private static int IndexOfMinimum(ReadOnlySpan<long> counts)
    {
        var min = Vector256.Create(counts);
        for (var i = Vector256<long>.Count; i < counts.Length; i += Vector256<long>.Count)
        {
            min = Vector256.Min(min, Vector256.Create(counts[i..]));
        }

        var smallest = Math.Min(Math.Min(min[0], min[1]), Math.Min(min[2], min[3]));
        return counts.IndexOf(smallest);
    }
}
