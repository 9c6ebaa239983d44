namespace LogQuota.Runner.Tests.Isolation;

/// <summary>
/// The isolation tests run alone, after the parallel ones: fork bombs, disks filled at full speed and bursts of
/// escaping processes would otherwise take the CPU from the timing-sensitive tests beside them (the terminal
/// corpus replayed with its timing), and those tests' load would stretch the kills measured here.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class IsolationTestsRunAlone
{
    public const string Name = "isolation";
}
