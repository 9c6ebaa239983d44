namespace LogQuota.Server.Apis;

/// <summary>
/// The <c>{project}</c> of a project's runs routes, or null on <c>/api/runs/...</c> (main's alias). Bound from the route
/// values rather than with <c>[FromRoute]</c>, because the alias routes have no such parameter and share the handlers.
/// </summary>
/// <param name="Name">The project's name as written in the address; null for main's alias.</param>
public sealed record ProjectRoute(string? Name)
{
    public static ValueTask<ProjectRoute?> BindAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return ValueTask.FromResult<ProjectRoute?>(new ProjectRoute(context.GetRouteValue("project") as string));
    }
}
