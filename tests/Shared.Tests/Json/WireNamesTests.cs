using System.Text.Json;
using LogQuota.Shared.Contracts;
using LogQuota.Shared.Json;

namespace LogQuota.Shared.Tests.Json;

/// <summary>The one table of wire names agrees with what JSON writes, and reads only those names.</summary>
public sealed class WireNamesTests
{
    [Fact]
    public void EveryName_IsWhatJsonWrites_AndReadsBack()
    {
        foreach (var action in Enum.GetValues<LogQuotaAction>())
        {
            var name = WireNames.Of(action);
            Assert.Equal($"\"{name}\"", JsonSerializer.Serialize(action, LogQuotaJson.Options));
            Assert.True(WireNames.TryParse<LogQuotaAction>(name, out var read));
            Assert.Equal(action, read);
        }

        Assert.Equal("log_quota_exceeded", WireNames.Of(TerminationReason.LogQuotaExceeded));
    }

    [Fact]
    public void Alternatives_ListTheNamesInDeclarationOrder()
    {
        Assert.Equal(["kill", "truncate", "observe"], WireNames.All<LogQuotaAction>());
        Assert.Equal("kill, truncate or observe", WireNames.Alternatives<LogQuotaAction>());
        Assert.Equal("job, runner or all", WireNames.Alternatives<LogSourceFilter>());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("Kill")]
    [InlineData(" kill")]
    [InlineData("0")]
    public void AnythingButAName_IsRejected(string? text) => Assert.False(WireNames.TryParse<LogQuotaAction>(text, out _));

    [Fact]
    public void AnUndefinedValue_HasNoName() => Assert.False(WireNames.TryGetName((LogSource)7, out _));
}
