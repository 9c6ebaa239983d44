namespace LogQuota.Shared.Contracts;

/// <summary>Body of <c>PUT /api/projects/{project}/secrets/{name}</c>.</summary>
/// <param name="Value">The secret's value (<see cref="SecretRules"/>): stored encrypted, never answered by any read.</param>
public sealed record SetSecretRequest(string Value);

/// <summary>A secret as the API shows it: its name and when it was last set, never its value.</summary>
/// <param name="Name">The environment variable a run that asks for it gets.</param>
/// <param name="UpdatedAt">When its value was last set (UTC).</param>
/// <param name="UpdatedBy">Who set it last.</param>
public sealed record SecretInfo(string Name, DateTimeOffset UpdatedAt, string UpdatedBy);

/// <summary>Answer of <c>GET /api/projects/{project}/secrets</c>: the project's secrets by name.</summary>
/// <param name="Secrets">Every secret of the project, by name, without values.</param>
public sealed record SecretsList(IReadOnlyList<SecretInfo> Secrets);
