using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;

namespace LogQuota.Server.Tests.Infrastructure;

/// <summary>Real gzip'd tars of code, as <c>tar czf</c> makes them, and their names (the SHA-256 of the bytes).</summary>
public static class TestArchives
{
    /// <summary>A gzip'd tar holding <paramref name="files"/> (path → content), in that order.</summary>
    public static byte[] Create(params (string Path, byte[] Content)[] files)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true))
        using (var tar = new TarWriter(gzip, TarEntryFormat.Pax, leaveOpen: true))
        {
            foreach (var (path, content) in files)
            {
                tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, path) { DataStream = new MemoryStream(content) });
            }
        }

        return buffer.ToArray();
    }

    /// <summary>A small project: a script and a data file.</summary>
    public static byte[] Project(string data = "1 2 3\n") =>
        Create(("train.py", "print(open('data.txt').read())\n"u8.ToArray()), ("data.txt", System.Text.Encoding.UTF8.GetBytes(data)));

    /// <summary>An archive of about <paramref name="bytes"/> compressed bytes: random content does not compress.</summary>
    public static byte[] OfSize(int bytes) => Create(("blob.bin", RandomNumberGenerator.GetBytes(bytes)));

    /// <summary>Gzip of <paramref name="content"/>, whatever it is.</summary>
    public static byte[] Gzip(byte[] content)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(content);
        }

        return buffer.ToArray();
    }

    public static string Sha256(byte[] archive) => Convert.ToHexStringLower(SHA256.HashData(archive));

    public static ByteArrayContent Content(byte[] archive)
    {
        var content = new ByteArrayContent(archive);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/gzip");
        return content;
    }

    /// <summary><c>PUT /api/code/{sha256}</c> of <paramref name="archive"/> under its own name, or under <paramref name="name"/>.</summary>
    public static Task<HttpResponseMessage> PutCodeAsync(this HttpClient client, byte[] archive, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        return client.PutAsync(new Uri($"/api/code/{name ?? Sha256(archive)}", UriKind.Relative), Content(archive));
    }

    /// <summary>The status of <c>HEAD /api/code/{sha256}</c>.</summary>
    public static async Task<System.Net.HttpStatusCode> HeadCodeAsync(this HttpClient client, string sha256)
    {
        ArgumentNullException.ThrowIfNull(client);
        using var request = new HttpRequestMessage(HttpMethod.Head, new Uri($"/api/code/{sha256}", UriKind.Relative));
        using var response = await client.SendAsync(request);
        return response.StatusCode;
    }

    /// <summary>Uploads <paramref name="archive"/>, asserts the server took it, and returns its name.</summary>
    public static async Task<string> UploadCodeAsync(this HttpClient client, byte[] archive)
    {
        using var put = await client.PutCodeAsync(archive);
        Assert.True(put.IsSuccessStatusCode, await put.Content.ReadAsStringAsync());
        return Sha256(archive);
    }
}
