using LogQuota.Server.Tests.Infrastructure;
using LogQuota.Shared.Contracts;

namespace LogQuota.Server.Tests.Functional;

/// <summary>
/// A server on real Kestrel over loopback (so its body limit and request parsing are the production ones) holding
/// two finished runs of three log events each (their lines gated apart: <see cref="LogGates"/>), and the next_tokens of
/// their first pages.
/// </summary>
public sealed class HostileInputFixture : IAsyncLifetime
{
    public const string Run = "kept";
    public const string OtherRun = "kept-too";

    public ServerFactory Server { get; } = new(new Dictionary<string, string> { ["DSTACK_SERVER_PORT"] = "0" });

    public HttpClient Client { get; private set; } = null!;

    private readonly LogGates _gates = new();

    /// <summary>A genuine token: first page of <see cref="Run"/>, ascending, limit 1.</summary>
    public string Token { get; private set; } = null!;

    /// <summary>A genuine token of <see cref="Run"/> in the other direction.</summary>
    public string DescendingToken { get; private set; } = null!;

    /// <summary>A genuine token of <see cref="OtherRun"/>.</summary>
    public string ForeignToken { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Server.UseKestrel();
        Server.StartServer();
        Client = Server.CreateAdminClient();
        Assert.StartsWith("http://127.0.0.1:", Client.BaseAddress!.ToString(), StringComparison.Ordinal);
        string[] lines = ["one", "two", "three"];
        foreach (var name in new[] { Run, OtherRun })
        {
            await Client.SubmitAsync(new SubmitRunRequest(_gates.Commands(lines), RunName: name));
            await _gates.RunThroughAsync(Client, name, lines);
        }

        Token = (await Client.GetLogsAsync(Run, "?limit=1")).NextToken!;
        DescendingToken = (await Client.GetLogsAsync(Run, "?limit=1&descending=true")).NextToken!;
        ForeignToken = (await Client.GetLogsAsync(OtherRun, "?limit=1")).NextToken!;
        Assert.All(new[] { Token, DescendingToken, ForeignToken }, t => Assert.False(string.IsNullOrEmpty(t)));
    }

    public async Task DisposeAsync()
    {
        Client.Dispose();
        await Server.DisposeAsync();
    }
}
