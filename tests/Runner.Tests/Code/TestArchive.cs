using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;
using System.Net.Http.Headers;
using System.Security.Cryptography;

namespace LogQuota.Runner.Tests.Code;

/// <summary>Real gzip'd tars for the code tests, written with System.Formats.Tar (or Python's tarfile for raw byte names).</summary>
internal static class TestArchive
{
    public static byte[] Build(params TarEntry[] entries) => Build(writer =>
    {
        foreach (var entry in entries)
        {
            writer.WriteEntry(entry);
        }
    });

    public static byte[] Build(Action<TarWriter> write)
    {
        using var bytes = new MemoryStream();
        using (var gzip = new GZipStream(bytes, CompressionLevel.Fastest, leaveOpen: true))
        using (var writer = new TarWriter(gzip, TarEntryFormat.Pax, leaveOpen: true))
        {
            write(writer);
        }

        return bytes.ToArray();
    }

    /// <summary>An archive of no entry as GNU tar writes it: ten blocks of zeros, gzip'd. (A TarWriter given no entry writes no byte at all.)</summary>
    public static byte[] Empty() => Gzip(new byte[10240]);

    public static byte[] Gzip(byte[] tar)
    {
        using var bytes = new MemoryStream();
        using (var gzip = new GZipStream(bytes, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(tar);
        }

        return bytes.ToArray();
    }

    public static string Sha256(byte[] archive) => Convert.ToHexStringLower(SHA256.HashData(archive));

    public static PaxTarEntry Regular(string name, string content, UnixFileMode mode = (UnixFileMode)0b110_100_100) =>
        Regular(name, System.Text.Encoding.UTF8.GetBytes(content), mode);

    public static PaxTarEntry Regular(string name, byte[] content, UnixFileMode mode = (UnixFileMode)0b110_100_100) =>
        new(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(content), Mode = mode };

    public static PaxTarEntry Dir(string name, UnixFileMode mode = (UnixFileMode)0b111_101_101) =>
        new(TarEntryType.Directory, name) { Mode = mode };

    public static PaxTarEntry Symlink(string name, string target) => new(TarEntryType.SymbolicLink, name) { LinkName = target };

    public static PaxTarEntry HardLink(string name, string target) => new(TarEntryType.HardLink, name) { LinkName = target };

    public static PaxTarEntry Special(TarEntryType type, string name, int major = 0, int minor = 0)
    {
        var entry = new PaxTarEntry(type, name);
        if (type is TarEntryType.CharacterDevice or TarEntryType.BlockDevice)
        {
            (entry.DeviceMajor, entry.DeviceMinor) = (major, minor);
        }

        return entry;
    }

    /// <summary>A gzip'd tar made by Python's tarfile holding one file whose name is the raw bytes <paramref name="name"/> (GNU format: no UTF-8 anywhere).</summary>
    public static byte[] WithRawName(byte[] name)
    {
        var path = Path.Combine(Path.GetTempPath(), $"logquota-rawname-{Guid.NewGuid():N}.tar.gz");
        var script = $$"""
            import io, sys, tarfile
            name = bytes.fromhex("{{Convert.ToHexString(name)}}").decode("utf-8", "surrogateescape")
            with tarfile.open(sys.argv[1], "w:gz", format=tarfile.GNU_FORMAT, encoding="utf-8", errors="surrogateescape") as tar:
                info = tarfile.TarInfo(name)
                info.size = 2
                tar.addfile(info, io.BytesIO(b"hi"))
            """;
        var start = new ProcessStartInfo(System.IO.File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3")
        {
            ArgumentList = { "-c", script, path },
            RedirectStandardError = true,
        };
        using (var python = Process.Start(start)!)
        {
            var error = python.StandardError.ReadToEnd();
            python.WaitForExit();
            Assert.True(python.ExitCode == 0, $"python3 could not write the archive: {error}");
        }

        try
        {
            return System.IO.File.ReadAllBytes(path);
        }
        finally
        {
            System.IO.File.Delete(path);
        }
    }

    /// <summary>PUTs <paramref name="archive"/> on the runner; returns its hash.</summary>
    public static async Task<string> PutAsync(RunnerHost runner, byte[] archive)
    {
        var sha = Sha256(archive);
        using var content = new ByteArrayContent(archive);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/gzip");
        await runner.Api.PutCodeAsync(sha, content, CancellationToken.None); // the Refit client the server uses; throws unless 2xx
        return sha;
    }

    public static Task<HttpResponseMessage> SendPutAsync(RunnerHost runner, string sha, byte[] body, string contentType = "application/gzip")
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        return runner.Http.PutAsync($"/api/code/{sha}", content);
    }
}
