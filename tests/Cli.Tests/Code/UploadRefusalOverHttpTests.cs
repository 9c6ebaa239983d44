using System.Collections.Concurrent;
using LogQuota.Cli.Code;
using LogQuota.Cli.Connection;
using LogQuota.Cli.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace LogQuota.Cli.Tests.Code;

/// <summary>
/// The upload over real HTTP against a server edge that answers as the LogQuota server does, without reading a body it
/// refuses, even when it answers slowly: the refusal reaches the CLI as the server's answer (not a connection reset
/// mid-body), and a HEAD that finds the archive sends nothing.
/// </summary>
public sealed class UploadRefusalOverHttpTests : IAsyncLifetime, IDisposable
{
    private readonly ProjectTree _tree = new();
    private readonly ConcurrentQueue<string> _calls = new();
    private WebApplication _app = null!;
    private CodeArchive _archive = null!;
    private bool _holds;

    public async Task InitializeAsync()
    {
        _tree.WriteRandom("data/big.bin", 40 << 20);
        _tree.Write("train.py", "print(1)\n");
        _archive = await CodeArchive.PackAsync(await CodeFiles.ListAsync(_tree.Root, CancellationToken.None), CancellationToken.None);

        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        _app = builder.Build();
        _app.MapMethods("/api/code/{sha256}", [HttpMethods.Head], (string sha256) =>
        {
            _calls.Enqueue("HEAD");
            return _holds ? Results.Ok() : Results.NotFound();
        });
        _app.MapPut("/api/code/{sha256}", async (HttpRequest request) =>
        {
            _calls.Enqueue($"PUT {request.ContentType} {request.ContentLength}");

            // A busy server: it answers after .NET's default wait for "100 Continue" (1 s), which once let the CLI
            // send the body this refusal was about, and see a broken pipe instead of the 413.
            await Task.Delay(TimeSpan.FromSeconds(2));
            return Results.Problem(statusCode: 413, detail: "The archive must be at most 1048576 bytes compressed (DSTACK_SERVER_CODE_MAX_BYTES).");
        });
        await _app.StartAsync();
    }

    public Task DisposeAsync() => Task.CompletedTask;

    public void Dispose()
    {
        _app?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _archive?.Dispose();
        _tree.Dispose();
    }

    [Fact]
    public async Task ALargeUploadAboveTheLimit_GetsTheServersRefusal_AsOneLine()
    {
        using var http = RequestTimeouts.CreateClient();
        var api = new ServerConnection(new Uri(_app.Urls.First()), "token", null).CreateApi(http);

        var e = await Assert.ThrowsAsync<CliException>(() => CodeUpload.SendAsync(api, _archive, CancellationToken.None));

        Assert.StartsWith("the code is 40.0MiB compressed (40.0MiB in 2 files), above the server's limit of 1.0MiB; largest files: data/big.bin 40.0MiB, train.py 9B;", e.Message, StringComparison.Ordinal);
        Assert.Equal(["HEAD", $"PUT application/gzip {_archive.CompressedBytes}"], _calls);
    }

    [Fact]
    public async Task AnArchiveTheServerHolds_IsNotSentAgain()
    {
        _holds = true;
        using var http = RequestTimeouts.CreateClient();
        var api = new ServerConnection(new Uri(_app.Urls.First()), "token", null).CreateApi(http);

        var outcome = await CodeUpload.SendAsync(api, _archive, CancellationToken.None);

        Assert.Equal(CodeUpload.Outcome.AlreadyOnServer, outcome);
        Assert.Equal(["HEAD"], _calls);
    }
}
