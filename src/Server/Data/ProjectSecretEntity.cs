namespace LogQuota.Server.Data;

/// <summary>A project's secret: its name and its value encrypted with the server's data protection keys (never in clear text).</summary>
public sealed class ProjectSecretEntity
{
    public Guid ProjectId { get; set; }

    /// <summary>The environment variable a run that asks for it gets; unique within the project.</summary>
    public required string Name { get; set; }

    /// <summary>The value as <see cref="Teams.SecretProtection"/> encrypted it (ASP.NET Core data protection's payload, base64url).</summary>
    public required string ProtectedValue { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }

    /// <summary>The name of who set the value last.</summary>
    public required string UpdatedBy { get; set; }
}
