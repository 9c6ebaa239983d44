namespace LogQuota.Server.Tests.Infrastructure;

/// <summary>Waits for a condition, not for a time: the deadline is for a machine far busier than its cores.</summary>
public static class Eventually
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);

    /// <summary>Returns once <paramref name="condition"/> holds; fails naming <paramref name="what"/> after 90 s.</summary>
    public static async Task TrueAsync(Func<bool> condition, string what)
    {
        ArgumentNullException.ThrowIfNull(condition);
        var deadline = DateTime.UtcNow + Deadline;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"Waited {Deadline.TotalSeconds:0} s for {what}.");
            await Task.Delay(10);
        }
    }
}
