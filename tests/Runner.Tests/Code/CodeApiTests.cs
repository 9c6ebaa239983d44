using System.Net;
using System.Text.Json;
using LogQuota.Shared.Contracts;
using Refit;
using static LogQuota.Runner.Tests.Code.TestArchive;

namespace LogQuota.Runner.Tests.Code;

/// <summary>SPEC §9 on the runner: HEAD and PUT /api/code/{sha256}, a submit naming code, and the archives' lifetime.</summary>
public sealed class CodeApiTests : IAsyncLifetime
{
    private RunnerHost _runner = null!;

    public async Task InitializeAsync() => _runner = await RunnerHost.StartAsync();

    public async Task DisposeAsync() => await _runner.DisposeAsync();

    private string CodeDir => Path.Combine(_runner.Dir, "code");

    private static byte[] Archive(string text) => Build(Regular("main.sh", text));

    [Fact]
    public async Task Head_Answers404BeforeAndAfterAPut200_AndAPutIsIdempotent()
    {
        var archive = Archive("echo one");
        var sha = Sha256(archive);
        Assert.Equal(HttpStatusCode.NotFound, await HeadAsync(sha));

        using (var first = await SendPutAsync(_runner, sha, archive))
        {
            Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        }

        Assert.Equal(HttpStatusCode.OK, await HeadAsync(sha));
        using (var again = await SendPutAsync(_runner, sha, archive))
        {
            Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        }

        Assert.Equal([$"{sha}.tar.gz"], System.IO.Directory.GetFiles(CodeDir).Select(Path.GetFileName));
        Assert.Equal("600", Isolation.Privileged.ModeOf(Path.Combine(CodeDir, $"{sha}.tar.gz")));
        Assert.Equal("700", Isolation.Privileged.ModeOf(CodeDir));
        Assert.Equal(archive, await System.IO.File.ReadAllBytesAsync(Path.Combine(CodeDir, $"{sha}.tar.gz")));

        // Through the Refit client the server uses.
        using var response = await _runner.Api.CodeExistsAsync(sha, CancellationToken.None);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Put_WithABodyThatIsNotTheNamedHash_Answers400_AndStoresNothing()
    {
        var archive = Archive("echo two");
        var wrong = Sha256(Archive("echo something else"));
        using var response = await SendPutAsync(_runner, wrong, archive);

        await AssertProblemAsync(response, HttpStatusCode.BadRequest, $"The body's SHA-256 is {Sha256(archive)}, not the {wrong} the URL names.");
        Assert.Equal(HttpStatusCode.NotFound, await HeadAsync(wrong));
        Assert.Empty(System.IO.Directory.GetFiles(CodeDir));
    }

    [Theory]
    [InlineData("ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789")]
    [InlineData("abc")]
    [InlineData("zzcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789")]
    [InlineData("not-a-hash")]
    public async Task Put_AndHead_OfAMalformedHash_Answer400(string sha)
    {
        using var response = await SendPutAsync(_runner, sha, Archive("x"));
        await AssertProblemAsync(response, HttpStatusCode.BadRequest, "is not a SHA-256");
        Assert.Equal(HttpStatusCode.BadRequest, await HeadAsync(sha));
    }

    [Fact]
    public async Task Put_OfSomethingElseThanGzip_IsRefused()
    {
        var notGzip = "just text"u8.ToArray();
        using (var response = await SendPutAsync(_runner, Sha256(notGzip), notGzip))
        {
            await AssertProblemAsync(response, HttpStatusCode.BadRequest, "The body is not gzip-compressed");
        }

        var archive = Archive("y");
        using (var response = await SendPutAsync(_runner, Sha256(archive), archive, "application/json"))
        {
            await AssertProblemAsync(response, (HttpStatusCode)415, "Content-Type: application/gzip");
        }

        Assert.Empty(System.IO.Directory.GetFiles(CodeDir));
    }

    [Fact]
    public async Task Put_AboveTheLimit_Answers413()
    {
        await using var small = await RunnerHost.StartAsync(codeMaxUnpacked: 1000);
        var archive = Build(Regular("noise", RandomBytes(5000)));
        using var response = await SendPutAsync(small, Sha256(archive), archive);
        await AssertProblemAsync(response, HttpStatusCode.RequestEntityTooLarge, "at most 1000 bytes (DSTACK_RUNNER_CODE_MAX_UNPACKED)");
    }

    [Fact]
    public async Task Submit_NamingCodeTheRunnerLacks_Answers400_AndAMalformedHashToo()
    {
        var sha = Sha256(Archive("never put"));
        var missing = await Assert.ThrowsAnyAsync<ApiException>(() =>
            _runner.Api.SubmitAsync(new SubmitBody(Guid.NewGuid(), new RunRef(Guid.NewGuid(), "no-code"), new JobSpec(["true"], CodeHash: sha)), CancellationToken.None));
        Assert.Equal(HttpStatusCode.BadRequest, missing.StatusCode);
        Assert.Contains($"code {sha} is not on this runner; PUT /api/code/{sha} first.", missing.Content, StringComparison.Ordinal);

        var malformed = await Assert.ThrowsAnyAsync<ApiException>(() =>
            _runner.Api.SubmitAsync(new SubmitBody(Guid.NewGuid(), new RunRef(Guid.NewGuid(), "bad-code"), new JobSpec(["true"], CodeHash: "../etc")), CancellationToken.None));
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        Assert.Contains("job_spec.code_hash must be a SHA-256", malformed.Content, StringComparison.Ordinal);
        Assert.Empty(System.IO.Directory.GetDirectories(Path.Combine(_runner.Dir, "jobs")));
    }

    [Fact]
    public async Task AnArchive_IsDeleted_WhenTheLastJobNamingItIsDeleted()
    {
        var sha = await PutAsync(_runner, Archive("echo shared"));
        var first = await _runner.RunAsync(new JobSpec(["sh main.sh"], Tty: false, CodeHash: sha));
        var second = await _runner.RunAsync(new JobSpec(["sh main.sh"], Tty: false, CodeHash: sha));
        Assert.Equal("shared\n", first.Text);
        Assert.Equal("shared\n", second.Text);

        await _runner.Api.DeleteAsync(first.JobId, CancellationToken.None);
        Assert.True(System.IO.File.Exists(Path.Combine(CodeDir, $"{sha}.tar.gz"))); // (a HEAD would keep it for a submit to come)

        await _runner.Api.DeleteAsync(second.JobId, CancellationToken.None);
        Assert.False(System.IO.File.Exists(Path.Combine(CodeDir, $"{sha}.tar.gz")));
        Assert.Equal(HttpStatusCode.NotFound, await HeadAsync(sha));
    }

    [Fact]
    public async Task AnArchiveFoundByHead_OutlivesAnotherJobsDelete_UntilItsOwnJobIsSubmitted()
    {
        var sha = await PutAsync(_runner, Archive("echo pinned"));
        var other = await _runner.RunAsync(new JobSpec(["true"], Tty: false, CodeHash: await PutAsync(_runner, Archive("echo other"))));
        await _runner.Api.DeleteAsync(other.JobId, CancellationToken.None); // sweeps: the put archive was just stored

        Assert.Equal(HttpStatusCode.OK, await HeadAsync(sha));
        var job = await _runner.RunAsync(new JobSpec(["sh main.sh"], Tty: false, CodeHash: sha));
        Assert.Equal("pinned\n", job.Text);
    }

    [Fact]
    public async Task AStartingRunner_DeletesTheArchivesAndUploadsAnEarlierProcessLeft()
    {
        var dir = System.IO.Directory.CreateTempSubdirectory("logquota-runner-test-").FullName;
        var sha = Sha256(Archive("echo before"));
        System.IO.Directory.CreateDirectory(Path.Combine(dir, "code"));
        await System.IO.File.WriteAllBytesAsync(Path.Combine(dir, "code", $"{sha}.tar.gz"), Archive("echo before"));
        await System.IO.File.WriteAllTextAsync(Path.Combine(dir, "code", $".{sha}.0123.part"), "half an upload");

        await using var runner = await RunnerHost.StartAsync(dir);
        Assert.Empty(System.IO.Directory.GetFiles(Path.Combine(dir, "code")));
    }

    private async Task<HttpStatusCode> HeadAsync(string sha)
    {
        using var request = new HttpRequestMessage(HttpMethod.Head, $"/api/code/{sha}");
        using var response = await _runner.Http.SendAsync(request);
        return response.StatusCode;
    }

    private static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string detail)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"{(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(body);
        Assert.Contains(detail, problem.RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    private static byte[] RandomBytes(int count)
    {
        var bytes = new byte[count];
        Random.Shared.NextBytes(bytes);
        return bytes;
    }
}
