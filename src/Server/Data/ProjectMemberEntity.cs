using LogQuota.Shared.Contracts;

namespace LogQuota.Server.Data;

/// <summary>A user's membership of a project, in one role.</summary>
public sealed class ProjectMemberEntity
{
    public Guid ProjectId { get; set; }

    public Guid UserId { get; set; }

    public UserEntity User { get; set; } = null!;

    public ProjectRole Role { get; set; }
}
