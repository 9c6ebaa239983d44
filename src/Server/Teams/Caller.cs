using LogQuota.Server.Data;
using LogQuota.Server.Web;
using LogQuota.Shared.Contracts;

namespace LogQuota.Server.Teams;

/// <summary>
/// Who is asking: the bootstrap admin (the server's admin token) or a user. The API's bearer token
/// (<see cref="Apis.CallerMiddleware"/>) and the web page's session (<see cref="WebSession"/>) both end as one, so
/// every endpoint and page hands the same thing to <see cref="TeamAccess"/>.
/// </summary>
/// <param name="UserId">The user's id; null for the bootstrap admin, who is not a stored user.</param>
/// <param name="Name">The user's name; <c>admin</c> for the bootstrap admin.</param>
/// <param name="GlobalRole">Their role on the server.</param>
public sealed record Caller(Guid? UserId, string Name, GlobalRole GlobalRole)
{
    /// <summary>The name the bootstrap admin goes by, which no user may take.</summary>
    public const string BootstrapAdminName = "admin";

    /// <summary>The holder of the admin token (DSTACK_SERVER_ADMIN_TOKEN or the admin-token file).</summary>
    public static Caller BootstrapAdmin { get; } = new(null, BootstrapAdminName, GlobalRole.Admin);

    public bool IsGlobalAdmin => GlobalRole == GlobalRole.Admin;

    public static Caller Of(UserEntity user)
    {
        ArgumentNullException.ThrowIfNull(user);
        return new Caller(user.Id, user.Name, user.GlobalRole);
    }

    /// <summary>The caller of this request: set by the API's token check, or read from the web page's session.</summary>
    public static Caller? From(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.Features.Get<Caller>() ?? WebSession.CallerOf(context.User);
    }

    /// <summary>Minimal APIs bind a <see cref="Caller"/> parameter with this; a request without one never reaches an endpoint.</summary>
    public static ValueTask<Caller?> BindAsync(HttpContext context) => ValueTask.FromResult(From(context));
}
