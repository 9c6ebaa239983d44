using System.Text.Json.Serialization;
using LogQuota.Shared.Json;

namespace LogQuota.Shared.Contracts;

/// <summary>What one job asks of its runner (SPEC §9): each part a limit the runner enforces, or null for none asked.</summary>
/// <param name="Cpus">CPUs the job may use, fractions allowed (<c>0.5</c>: half of one CPU's time), through the cgroup v1 cpu controller's CFS quota.</param>
/// <param name="Memory">Bytes of memory the job may use, through its memory group; on the API also a size such as <c>8GiB</c>, always bytes on the wire to a runner.</param>
/// <param name="Gpus">GPUs the job needs: it goes only to a runner that has at least this many.</param>
/// <param name="Partition">The Slurm partition to run in, on a runner whose executor is <c>slurm</c> and that allows it (<c>DSTACK_RUNNER_SLURM_PARTITIONS</c>).</param>
public sealed record JobResources(
    double? Cpus = null,
    [property: JsonConverter(typeof(ByteCountJsonConverter))] long? Memory = null,
    int? Gpus = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Partition = null);

/// <summary>
/// The most of each resource one job may ask on a runner, as its health check reports it (<c>resources</c>) and as the
/// server checks a run against before accepting it. A null kind cannot be limited there, so any request of it is refused.
/// </summary>
/// <param name="Cpus">The runner's CPUs where the cgroup v1 cpu controller can limit a job; else null.</param>
/// <param name="Memory">Where a memory controller can limit a job: <c>DSTACK_RUNNER_JOB_MEMORY_MAX</c>, or the host's memory when that is unset; else null.</param>
/// <param name="Gpus">GPUs the runner's host has (<c>nvidia-smi -L</c>; 0 without it).</param>
public sealed record RunnerCapacity(double? Cpus, long? Memory, int Gpus)
{
    /// <summary>What a runner of an older version, which reports nothing, can give: no limit of any kind, no GPU.</summary>
    public static RunnerCapacity None { get; } = new(null, null, 0);

    /// <summary>The first part of <paramref name="asked"/> this runner cannot give, as (field under <c>resources.</c>, the reason in words); null when it can give it all.</summary>
    public (string Field, string Message)? Refusal(JobResources? asked) =>
        asked is not null && Refusals(asked).FirstOrDefault() is { Field: not null } refusal ? refusal : null;

    /// <summary>Every part of <paramref name="asked"/> that cannot be given, as (field under <c>resources.</c>, the reason in words).</summary>
    /// <param name="asked">The run's request.</param>
    /// <param name="ofAll">This capacity is the most of each kind over all runners (the server's check): the words say "any runner".</param>
    public IEnumerable<(string Field, string Message)> Refusals(JobResources asked, bool ofAll = false)
    {
        ArgumentNullException.ThrowIfNull(asked);
        var who = ofAll ? "any runner" : "this runner";
        if (asked.Cpus is { } cpus && !(Cpus >= cpus))
        {
            yield return ("cpus", Cpus is { } most
                ? $"resources.cpus {Format(cpus)} is more than {who} has: {Format(most)}."
                : $"resources.cpus {Format(cpus)} cannot be given: {(ofAll ? "no runner can limit a job's CPUs (none has a cgroup cpu controller)" : "this runner cannot limit a job's CPUs (it has no cgroup cpu controller)")}.");
        }

        if (asked.Memory is { } memory && !(Memory >= memory))
        {
            yield return ("memory", Memory is { } most
                ? $"resources.memory {ByteCount.Readable(memory)} is more than {who} gives one job: {ByteCount.Readable(most)}."
                : $"resources.memory {ByteCount.Readable(memory)} cannot be given: {(ofAll ? "no runner can limit a job's memory (none has a memory controller)" : "this runner cannot limit a job's memory (it has no memory controller)")}.");
        }

        if (asked.Gpus is > 0 and var gpus && Gpus < gpus)
        {
            yield return ("gpus", $"resources.gpus {gpus} is more than {who} has: {Gpus}.");
        }
    }

    private static string Format(double value) => value.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture);
}
