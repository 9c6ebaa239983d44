namespace LogQuota.Server.Data;

/// <summary>A submitted run: a name and its jobs (one per run today, as <c>dstack run</c> makes for a task).</summary>
public sealed class RunEntity
{
    public Guid Id { get; set; }

    /// <summary>The project the run belongs to (main unless set); its name is unique within it.</summary>
    public Guid ProjectId { get; set; } = ProjectEntity.MainId;

    public required string RunName { get; set; }

    public DateTimeOffset SubmittedAt { get; set; }

    /// <summary>
    /// The user who submitted it (null: the bootstrap admin, or a run from before runs had authors). Only its author
    /// sees the values of the run's own <c>env</c> in its details.
    /// </summary>
    public Guid? SubmittedById { get; set; }

    /// <summary>The name of who submitted it (<c>admin</c> for the bootstrap admin); null for a run from before runs had authors.</summary>
    public string? SubmittedBy { get; set; }

    public List<JobEntity> Jobs { get; set; } = [];

    /// <summary>The run's events, oldest first by timestamp.</summary>
    public List<RunEventEntity> Events { get; set; } = [];
}
