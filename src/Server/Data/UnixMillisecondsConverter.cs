using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace LogQuota.Server.Data;

/// <summary>Stores a <see cref="DateTimeOffset"/> as milliseconds since the Unix epoch (UTC).</summary>
public sealed class UnixMillisecondsConverter() : ValueConverter<DateTimeOffset, long>(
    v => v.ToUnixTimeMilliseconds(),
    v => DateTimeOffset.FromUnixTimeMilliseconds(v));
