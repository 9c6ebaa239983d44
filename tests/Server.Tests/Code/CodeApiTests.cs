using System.Net;
using System.Net.Http.Json;
using LogQuota.Server.Configuration;
using LogQuota.Server.Tests.Infrastructure;
using LogQuota.Shared.Contracts;
using LogQuota.Shared.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace LogQuota.Server.Tests.Code;

/// <summary>SPEC §9: <c>PUT</c>/<c>HEAD /api/code/{sha256}</c> and <c>code_hash</c> on a submit, on the real server and database.</summary>
public abstract class CodeApiTests(DatabaseProvider provider) : IDisposable
{
    /// <summary>A runner nobody answers at: with time frozen the processor never runs, so jobs stay as submitted.</summary>
    private const string NoRunner = "http://127.0.0.1:9/";

    protected TestDatabase Database { get; } = TestDatabase.Create(provider);

    public void Dispose()
    {
        Database.Dispose();
        GC.SuppressFinalize(this);
    }

    [SkippableFact]
    public async Task Put_StoresTheArchive_AndHeadFindsIt()
    {
        await using var server = Server();
        using var client = server.CreateAdminClient();
        var archive = TestArchives.Project();
        var sha = TestArchives.Sha256(archive);

        Assert.Equal(HttpStatusCode.NotFound, await client.HeadCodeAsync(sha));
        using var put = await client.PutCodeAsync(archive);

        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        Assert.Equal($"/api/code/{sha}", put.Headers.Location?.ToString());
        Assert.Equal(new CodeArchiveInfo(sha, archive.Length), await put.Content.ReadFromJsonAsync<CodeArchiveInfo>(LogQuotaJson.Options));
        Assert.Equal(HttpStatusCode.OK, await client.HeadCodeAsync(sha));
        Assert.Equal(archive, await StoredBytesAsync(server, sha));
    }

    [SkippableFact]
    public async Task TheSameTreeTwice_IsStoredOnce()
    {
        await using var server = Server();
        using var client = server.CreateAdminClient();
        var archive = TestArchives.Project();

        using var first = await client.PutCodeAsync(archive);
        using var second = await client.PutCodeAsync(archive);

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal(1, await server.QueryAsync(db => db.CodeArchives.CountAsync()));
        Assert.Equal(1, await server.QueryAsync(db => db.CodeChunks.CountAsync()));
    }

    /// <summary>On real Kestrel, whose 1 MiB body limit for JSON must not apply here: 2.5 MiB go in three chunks.</summary>
    [SkippableFact]
    public async Task AnArchiveLargerThanAChunk_AndThanTheJsonBodyLimit_IsStoredWhole()
    {
        await using var server = Server(new() { ["DSTACK_SERVER_PORT"] = "0" }, time: TimeProvider.System);
        server.UseKestrel();
        server.StartServer();
        using var client = server.CreateAdminClient();
        var archive = TestArchives.OfSize((5 << 20) / 2);
        var sha = TestArchives.Sha256(archive);

        using var put = await client.PutCodeAsync(archive);

        Assert.True(put.StatusCode == HttpStatusCode.Created, await put.Content.ReadAsStringAsync());
        Assert.Equal(3, await server.QueryAsync(db => db.CodeChunks.CountAsync(c => c.Sha256 == sha)));
        Assert.Equal(archive, await StoredBytesAsync(server, sha));

        // Held already: the body is read to its end and dropped, and the connection stays usable.
        using var again = await client.PutCodeAsync(archive);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(HttpStatusCode.OK, await client.HeadCodeAsync(sha));
    }

    [SkippableTheory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task AboveTheLimit_Answers413_AndStoresNothing(bool withLength)
    {
        await using var server = Server(new() { ["DSTACK_SERVER_CODE_MAX_BYTES"] = "2KiB" });
        using var client = server.CreateAdminClient();
        var archive = TestArchives.OfSize(3000);
        Assert.True(archive.Length > 2048);

        // Without a length (chunked) the server finds out while reading, and stops there.
        using HttpContent content = withLength ? TestArchives.Content(archive) : new StreamContent(new MemoryStream(archive));
        using var put = await client.PutAsync(new Uri($"/api/code/{TestArchives.Sha256(archive)}", UriKind.Relative), content);

        var detail = await ApiClient.AssertProblemAsync(put, HttpStatusCode.RequestEntityTooLarge);
        Assert.Contains("at most 2048 bytes compressed (DSTACK_SERVER_CODE_MAX_BYTES)", detail, StringComparison.Ordinal);
        Assert.Equal(0, await server.QueryAsync(db => db.CodeArchives.CountAsync()));
        var uploads = Path.Combine(server.Dir, "code-uploads");
        Assert.True(!Directory.Exists(uploads) || !Directory.EnumerateFiles(uploads).Any(), "An upload's temporary file was left behind.");

        var small = TestArchives.Project();
        using var fits = await client.PutCodeAsync(small);
        Assert.Equal(HttpStatusCode.Created, fits.StatusCode);
    }

    [SkippableFact]
    public async Task Zero_TurnsUploadsOff()
    {
        await using var server = Server(new() { ["DSTACK_SERVER_CODE_MAX_BYTES"] = "0" });
        using var client = server.CreateAdminClient();

        using var put = await client.PutCodeAsync(TestArchives.Project());

        var detail = await ApiClient.AssertProblemAsync(put, HttpStatusCode.Forbidden);
        Assert.Contains("Code uploads are off on this server (DSTACK_SERVER_CODE_MAX_BYTES=0)", detail, StringComparison.Ordinal);
        Assert.Equal(0, await server.QueryAsync(db => db.CodeArchives.CountAsync()));
    }

    public static TheoryData<string, string> BadBodies() => new()
    {
        { "hash mismatch", "The body's SHA-256 is " },
        { "not gzip", "The body is not gzip-compressed" },
        { "gzip of text", "is not a tar archive" },
        { "gzip of a broken tar", "The body is not a valid gzip'd tar" },
        { "truncated gzip", "it ends early" },
        { "malformed name", "The code's name must be the SHA-256 of the archive as 64 lowercase hex digits" },
    };

    [SkippableTheory]
    [MemberData(nameof(BadBodies))]
    public async Task ABodyThatIsNotAGzippedTar_OrNotTheNamedOne_Answers400(string why, string expected)
    {
        await using var server = Server();
        using var client = server.CreateAdminClient();
        var project = TestArchives.Project();
        var brokenTar = TestArchives.Gzip([.. TarOf(project).Take(512), .. new byte[600].Select((_, i) => (byte)('x' + (i % 3)))]);
        var (body, name) = why switch
        {
            "hash mismatch" => (project, TestArchives.Sha256(TestArchives.Project("other"))),
            "not gzip" => (TarOf(project), null),
            "gzip of text" => (TestArchives.Gzip("hello, world\n"u8.ToArray()), null),
            "gzip of a broken tar" => (brokenTar, null),
            "truncated gzip" => (project[..^12], null),
            _ => (project, TestArchives.Sha256(project).ToUpperInvariant()),
        };

        using var put = await client.PutCodeAsync(body, name);

        var detail = await ApiClient.AssertProblemAsync(put, HttpStatusCode.BadRequest);
        Assert.Contains(expected, detail, StringComparison.Ordinal);
        Assert.Equal(0, await server.QueryAsync(db => db.CodeArchives.CountAsync()));
    }

    [SkippableFact]
    public async Task Submit_WithUnknownCode_Answers404_AndWithMalformedCode400()
    {
        await using var server = Server();
        using var client = server.CreateAdminClient();
        var unknown = TestArchives.Sha256(TestArchives.Project());

        using var missing = await client.PostAsync(new Uri("/api/runs", UriKind.Relative), ApiClient.Json(new SubmitRunRequest(["true"], CodeHash: unknown)));
        using var malformed = await client.PostAsync(new Uri("/api/runs", UriKind.Relative), ApiClient.Json(new SubmitRunRequest(["true"], CodeHash: "abc")));

        Assert.Contains($"upload it first with PUT /api/code/{unknown}", await ApiClient.AssertProblemAsync(missing, HttpStatusCode.NotFound), StringComparison.Ordinal);
        Assert.Contains("code_hash must be the SHA-256 of the archive", await ApiClient.AssertProblemAsync(malformed, HttpStatusCode.BadRequest), StringComparison.Ordinal);
        Assert.Equal(0, (await server.CountRowsAsync()).Runs);
    }

    [SkippableFact]
    public async Task Submit_WithKnownCode_PutsItInTheJobSpec()
    {
        await using var server = Server();
        using var client = server.CreateAdminClient();
        var archive = TestArchives.Project();
        var sha = TestArchives.Sha256(archive);
        using (var put = await client.PutCodeAsync(archive))
        {
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        }

        await client.SubmitAsync(new SubmitRunRequest(["python3 train.py"], RunName: "with-code", WorkingDir: "src/app", CodeHash: sha));

        var job = await server.QueryAsync(db => db.Jobs.SingleAsync());
        Assert.Equal(sha, job.Spec.CodeHash);
        Assert.Equal(sha, job.CodeHash);
        Assert.Equal("src/app", job.Spec.WorkingDir);
    }

    [SkippableTheory]
    [InlineData("..")]
    [InlineData("../data")]
    [InlineData("src/../../etc")]
    public async Task Submit_WithARelativeWorkingDirLeavingTheCode_Answers400(string dir)
    {
        await using var server = Server();
        using var client = server.CreateAdminClient();

        using var response = await client.PostAsync(new Uri("/api/runs", UriKind.Relative), ApiClient.Json(new SubmitRunRequest(["true"], WorkingDir: dir)));

        var detail = await ApiClient.AssertProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains($"working_dir '{dir}' must stay inside the code directory", detail, StringComparison.Ordinal);
    }

    private static byte[] TarOf(byte[] gzipped)
    {
        using var gzip = new System.IO.Compression.GZipStream(new MemoryStream(gzipped), System.IO.Compression.CompressionMode.Decompress);
        using var tar = new MemoryStream();
        gzip.CopyTo(tar);
        return tar.ToArray();
    }

    private static Task<byte[]> StoredBytesAsync(ServerFactory server, string sha) =>
        server.QueryAsync(async db => (await db.CodeChunks.Where(c => c.Sha256 == sha).OrderBy(c => c.Seq).Select(c => c.Data).ToListAsync())
            .SelectMany(d => d).ToArray());

    private ServerFactory Server(Dictionary<string, string>? settings = null, TimeProvider? time = null)
    {
        var all = new Dictionary<string, string>(settings ?? []) { ["DSTACK_SERVER_RUNNERS"] = NoRunner };
        var clock = time ?? new FakeTimeProvider(DateTimeOffset.UtcNow);
        return new ServerFactory(all, configureServices: services => services.AddSingleton(clock), database: Database);
    }
}

/// <summary>The code API on SQLite.</summary>
public sealed class CodeApiSqliteTests() : CodeApiTests(DatabaseProvider.Sqlite);

/// <summary>The code API on PostgreSQL (skipped without <c>LOGQUOTA_TEST_POSTGRES</c>).</summary>
public sealed class CodeApiPostgresTests() : CodeApiTests(DatabaseProvider.Postgres);
