using System.Net;
using LogQuota.Cli.Code;
using LogQuota.Cli.Tests.Infrastructure;

namespace LogQuota.Cli.Tests.Code;

/// <summary>The server's refusals of an upload, told as one line the user can act on.</summary>
public sealed class CodeUploadTests : IAsyncLifetime, IDisposable
{
    private readonly ProjectTree _tree = new();
    private CodeArchive _archive = null!;

    public async Task InitializeAsync()
    {
        _tree.WriteRandom("data/train.bin", 3 << 20);
        _tree.WriteRandom("model.pt", 1 << 20);
        _tree.WriteRandom("notes.bin", 2000);
        _tree.Write("train.py", "print(1)\n");
        _archive = await CodeArchive.PackAsync(await CodeFiles.ListAsync(_tree.Root, CancellationToken.None), CancellationToken.None);
    }

    public Task DisposeAsync() => Task.CompletedTask;

    public void Dispose()
    {
        _archive?.Dispose();
        _tree.Dispose();
    }

    [Theory]
    [InlineData("""{"title":"Payload Too Large","status":413,"detail":"The archive must be at most 1048576 bytes (DSTACK_SERVER_CODE_MAX_BYTES)."}""")]
    [InlineData("""{"title":"Payload Too Large","status":413,"detail":"Too large.","max_bytes":1048576}""")]
    public void TooLarge_NamesTheSize_TheLimit_TheLargestFiles_AndWhatToDo(string body)
    {
        var line = CodeUpload.Refusal(HttpStatusCode.RequestEntityTooLarge, body, _archive);

        Assert.NotNull(line);
        Assert.DoesNotContain('\n', line);
        Assert.StartsWith("the code is 4.0MiB compressed (4.0MiB in 4 files), above the server's limit of 1.0MiB; ", line, StringComparison.Ordinal);
        Assert.Contains("largest files: data/train.bin 3.0MiB, model.pt 1.0MiB, notes.bin 2.0KiB;", line, StringComparison.Ordinal);
        Assert.EndsWith("leave files out with .gitignore or .logquotaignore, send another directory with --code DIR, or nothing with --no-code", line, StringComparison.Ordinal);
    }

    [Fact]
    public void TooLarge_WithoutAKnownLimit_QuotesTheServersDetail()
    {
        var line = CodeUpload.Refusal(HttpStatusCode.RequestEntityTooLarge, """{"detail":"Request body too large."}""", _archive);

        Assert.Contains("above the server's limit (Request body too large.)", line, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(HttpStatusCode.RequestEntityTooLarge, """{"detail":"Code uploads are turned off on this server.","max_bytes":0}""")]
    [InlineData(HttpStatusCode.Forbidden, """{"detail":"Code uploads are disabled (DSTACK_SERVER_CODE_MAX_BYTES=0)."}""")]
    public void UploadsOff_IsOneClearLine(HttpStatusCode status, string body) =>
        Assert.Equal(
            "this server does not take code uploads (DSTACK_SERVER_CODE_MAX_BYTES=0 there): run with --no-code, or ask its operator to allow them",
            CodeUpload.Refusal(status, body, _archive));

    [Theory]
    [InlineData(HttpStatusCode.NotFound)]
    [InlineData(HttpStatusCode.MethodNotAllowed)]
    public void AServerWithoutTheEndpoint_SaysSo(HttpStatusCode status) =>
        Assert.Equal(
            $"the server does not take code uploads (it answered {(int)status} to PUT /api/code; is it older than this CLI?): run with --no-code",
            CodeUpload.Refusal(status, null, _archive));

    [Fact]
    public void AnyOtherRefusal_IsLeftToTheGenericLine() =>
        Assert.Null(CodeUpload.Refusal(HttpStatusCode.BadRequest, """{"detail":"The body's SHA-256 is not the one in the URL."}""", _archive));
}
