using System.Buffers.Binary;
using System.Numerics;
using System.Text;

namespace LogQuota.Shared.Logs;

/// <summary>
/// How a repeated line is recognised and shown, the same for a job's quota (the runner's sketch) and a project's budget
/// (the server's): a 64-bit hash of the line's bytes, and a sample of its first <see cref="SampleBytes"/> bytes.
/// </summary>
public static class LineIdentity
{
    /// <summary>Bytes of a line kept to show it; a report is for recognising a line, not for reading it whole.</summary>
    public const int SampleBytes = 200;

    /// <summary>
    /// A 64-bit multiply-rotate hash over 8-byte words in two independent lanes (16 bytes per step, so the multiplies
    /// overlap): several GB/s, so counting every stored line costs the read path little next to terminal processing.
    /// Not for adversaries (a job could collide lines on purpose, which only muddles its own report).
    /// </summary>
    /// <param name="bytes">The line, without its <c>\n</c>.</param>
    /// <returns>The hash; equal lines hash equal in every process and version that uses this.</returns>
    public static ulong Hash(ReadOnlySpan<byte> bytes)
    {
        const ulong Multiplier = 0x9E3779B97F4A7C15;
        const ulong Multiplier2 = 0xC2B2AE3D27D4EB4F;
        var hash = (ulong)bytes.Length * Multiplier;
        var second = ~hash;
        while (bytes.Length >= 16)
        {
            hash = (BitOperations.RotateLeft(hash, 23) ^ BinaryPrimitives.ReadUInt64LittleEndian(bytes)) * Multiplier;
            second = (BitOperations.RotateLeft(second, 29) ^ BinaryPrimitives.ReadUInt64LittleEndian(bytes[8..])) * Multiplier2;
            bytes = bytes[16..];
        }

        hash ^= BitOperations.RotateLeft(second, 31);
        if (bytes.Length >= 8)
        {
            hash = (BitOperations.RotateLeft(hash, 23) ^ BinaryPrimitives.ReadUInt64LittleEndian(bytes)) * Multiplier;
            bytes = bytes[8..];
        }

        ulong tail = 0;
        for (var i = 0; i < bytes.Length; i++)
        {
            tail |= (ulong)bytes[i] << (8 * i);
        }

        hash = (BitOperations.RotateLeft(hash, 23) ^ tail) * Multiplier;
        return hash ^ (hash >> 29);
    }

    /// <summary>The first <see cref="SampleBytes"/> bytes of <paramref name="line"/>: what a report keeps of it.</summary>
    /// <param name="line">The line, without its <c>\n</c>.</param>
    /// <returns>A slice of <paramref name="line"/>.</returns>
    public static ReadOnlySpan<byte> Sample(ReadOnlySpan<byte> line) => line[..Math.Min(line.Length, SampleBytes)];

    /// <summary>A kept sample as a report shows it: UTF-8, without the <c>\r</c> a terminal line may end with.</summary>
    /// <param name="sample">Bytes from <see cref="Sample"/>.</param>
    /// <returns>The text; a sample cut inside a character has that piece replaced, never an exception.</returns>
    public static string Text(ReadOnlySpan<byte> sample) => Encoding.UTF8.GetString(sample).TrimEnd('\r');
}
