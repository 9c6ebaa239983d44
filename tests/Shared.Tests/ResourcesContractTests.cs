using System.Text.Json;
using LogQuota.Shared.Contracts;
using LogQuota.Shared.Json;

namespace LogQuota.Shared.Tests;

/// <summary>A run's <c>resources</c> on the wire (memory as bytes or a size in, bytes out) and a runner's check of them against what it can give.</summary>
public sealed class ResourcesContractTests
{
    [Theory]
    [InlineData("""{"memory": 1048576}""", 1048576L)]
    [InlineData("""{"memory": "8GiB"}""", 8589934592L)]
    [InlineData("""{"memory": "512MiB"}""", 536870912L)]
    [InlineData("""{"memory": "1.5GiB"}""", 1610612736L)]
    [InlineData("""{"memory": null}""", null)]
    [InlineData("""{}""", null)]
    public void Memory_IsReadAsBytesOrASize_AndWrittenAsBytes(string json, long? bytes)
    {
        var resources = JsonSerializer.Deserialize<JobResources>(json, LogQuotaJson.StrictOptions)!;
        Assert.Equal(bytes, resources.Memory);
        Assert.Equal(bytes is null ? """{"cpus":null,"memory":null,"gpus":null}""" : $$"""{"cpus":null,"memory":{{bytes}},"gpus":null}""",
            JsonSerializer.Serialize(resources, LogQuotaJson.Options));
    }

    [Fact]
    public void AJobSpecWithoutResources_LeavesTheFieldOut_SoOlderRunnersTakeIt() =>
        Assert.DoesNotContain("resources", JsonSerializer.Serialize(new JobSpec(["true"]), LogQuotaJson.Options), StringComparison.Ordinal);

    [Theory]
    [InlineData("""{"memory": "lots"}""")]
    [InlineData("""{"memory": 1.5}""")]
    [InlineData("""{"memory": true}""")]
    [InlineData("""{"memory": "-5MiB"}""")]
    public void Memory_ThatIsNoSize_IsAnErrorNamingTheField(string json)
    {
        var e = Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<JobResources>(json, LogQuotaJson.StrictOptions));
        Assert.StartsWith("`memory`: must be a whole number of bytes, or a size such as \"8GiB\"", JsonErrors.Describe(e, typeof(JobResources), LogQuotaJson.StrictOptions), StringComparison.Ordinal);
    }

    [Fact]
    public void ARunner_RefusesWhatItCannotGive_NamingEachPart()
    {
        var runner = new RunnerCapacity(Cpus: 2, Memory: 1L << 30, Gpus: 0);

        Assert.Null(runner.Refusal(new JobResources(Cpus: 2, Memory: 1L << 30, Gpus: 0)));
        Assert.Null(runner.Refusal(null));
        Assert.Equal(["cpus", "memory", "gpus"], runner.Refusals(new JobResources(Cpus: 2.5, Memory: 2L << 30, Gpus: 1)).Select(r => r.Field));
        Assert.Equal("resources.cpus 2.5 is more than this runner has: 2.", runner.Refusal(new JobResources(Cpus: 2.5))!.Value.Message);
        Assert.Equal("resources.memory 4MiB cannot be given: no runner can limit a job's memory (none has a memory controller).",
            RunnerCapacity.None.Refusals(new JobResources(Memory: 4L << 20), ofAll: true).Single().Message);
    }
}
