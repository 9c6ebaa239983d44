using LogQuota.Shared.Contracts;

namespace LogQuota.Server.Data;

/// <summary>A project: every run belongs to one, and its members reach its runs.</summary>
public sealed class ProjectEntity
{
    /// <summary>The project every server has from its first start, which today's runs and <c>/api/runs</c> belong to.</summary>
    public const string MainName = "main";

    /// <summary>The id of <see cref="MainName"/>, fixed so that the migration that creates it can put the existing runs in it.</summary>
    public static readonly Guid MainId = new("00000000-0000-7000-8000-000000000001");

    public Guid Id { get; set; }

    public required string Name { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>Stored log bytes per hour summed over the project's jobs; null when it has no budget.</summary>
    public long? LogBudgetHour { get; set; }

    /// <summary>What happens when an hour crosses <see cref="LogBudgetHour"/>.</summary>
    public LogQuotaAction LogBudgetAction { get; set; }

    public List<ProjectMemberEntity> Members { get; set; } = [];
}
