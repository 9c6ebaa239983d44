using System.Security.Cryptography;

namespace LogQuota.Server.Replicas;

/// <summary>
/// This server process as a replica: the name it holds job leases under (LOCKING.md). New for every process, so a
/// restarted replica never mistakes the leases of its previous life for its own.
/// </summary>
public sealed class ReplicaIdentity
{
    /// <summary>The name, at most 64 characters: host, process id and a random suffix.</summary>
    public string Id { get; } = Create();

    private static string Create()
    {
        var host = Environment.MachineName;
        var suffix = $":{Environment.ProcessId}:{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4))}";
        return (host.Length + suffix.Length > 64 ? host[..(64 - suffix.Length)] : host) + suffix;
    }
}
