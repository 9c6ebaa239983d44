using System.Text.Json;
using LogQuota.Shared.Json;
using Microsoft.AspNetCore.Http;

namespace LogQuota.Hosting;

/// <summary>A request's JSON body, read whole but bounded and then strictly (unknown fields refused).</summary>
public static class JsonBody
{
    /// <summary>
    /// Reads the body of <paramref name="request"/> as a <typeparamref name="T"/>. The bound holds for a chunked body in
    /// any host, as Kestrel's own limit does. Throws <see cref="BodyTooLargeException"/> past <paramref name="maxBytes"/>,
    /// <see cref="JsonException"/> for a body that is no <typeparamref name="T"/>, and <see cref="BadHttpRequestException"/>
    /// for Kestrel's limits and malformed framing.
    /// </summary>
    public static async Task<T?> ReadAsync<T>(HttpRequest request, long maxBytes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(new BoundedWriteStream(buffer, maxBytes), cancellationToken);
        buffer.Position = 0;
        return await JsonSerializer.DeserializeAsync<T>(buffer, LogQuotaJson.StrictOptions, cancellationToken);
    }
}
