namespace LogQuota.Server.Tests.Teams;

/// <summary>
/// One rule: an endpoint (its route, and the request the table sends to it) and the status each caller gets. Requests
/// are chosen to change nothing whoever sends them: a body the rules refuse once the caller is let in (400), a stop of
/// a run that has finished, a delete of a run that is still running (409), a role set to the one held already.
/// </summary>
/// <param name="Route">The endpoint's route pattern, as the routing table has it.</param>
/// <param name="Method">The HTTP method.</param>
/// <param name="Path">The request's path.</param>
/// <param name="Body">A JSON body, or null.</param>
/// <param name="Web">True when sent with the caller's web session instead of their bearer token.</param>
/// <param name="Expected">The status for each caller, in <see cref="Who"/> order.</param>
public sealed record Rule(string Route, string Method, string Path, string? Body, bool Web, int[] Expected)
{
    public string Key => $"{Method} {Path}{(Body is null ? "" : " " + Body)}";
}

/// <summary>
/// The authorization rules of users, projects and roles, one row each: every endpoint of the REST API, of the web
/// page's <c>/web/api</c> and <c>/metrics</c>, for an admin (the token's, and a user's), a project's admin, manager and
/// user, a non-member, and a deleted user; in the caller's own project (alpha), another (beta) and main.
/// </summary>
public static class AuthorizationTable
{
    // Columns: Bootstrap, GlobalAdmin, ProjectAdmin (alice), Manager (mona), User (uma), Outsider (nina), Deleted (ghost).
    private const string InvalidRun = """{"commands": []}""";

    public static IReadOnlyList<Rule> Rules { get; } =
    [
        .. ProjectRuns("alpha", member: true),
        .. ProjectRuns("beta", member: false),
        .. MainRuns(),

        Api("/api/users", "POST", "/api/users", """{"name": "Not A Name", "global_role": "user"}""", [400, 400, 403, 403, 403, 403, 401]),
        Api("/api/users", "GET", "/api/users", null, [200, 200, 403, 403, 403, 403, 401]),
        Api("/api/users/{user}/token", "POST", "/api/users/nobody/token", null, [404, 404, 403, 403, 403, 403, 401]),
        Api("/api/users/{user}", "DELETE", "/api/users/nobody", null, [404, 404, 403, 403, 403, 403, 401]),

        // Anyone signed in may create a project (they become its admin); the name decides the rest.
        Api("/api/projects", "POST", "/api/projects", """{"name": "Not A Name"}""", [400, 400, 400, 400, 400, 400, 401]),
        Api("/api/projects", "GET", "/api/projects", null, [200, 200, 200, 200, 200, 200, 401]),
        Api("/api/projects/{project}", "GET", "/api/projects/alpha", null, [200, 200, 200, 200, 200, 404, 401]),
        Api("/api/projects/{project}", "GET", "/api/projects/beta", null, [200, 200, 404, 404, 404, 200, 401]),
        Api("/api/projects/{project}", "GET", "/api/projects/main", null, [200, 200, 404, 404, 404, 404, 401]),

        // The log budget: the project's admins and managers (a budget the rules refuse, so nothing changes).
        Api("/api/projects", "POST", "/api/projects", """{"name": "gamma", "log_budget_hour": -1}""", [400, 400, 400, 400, 400, 400, 401]),
        Api("/api/projects/{project}", "PATCH", "/api/projects/alpha", """{"log_budget_hour": -1}""", [400, 400, 400, 400, 403, 404, 401]),
        Api("/api/projects/{project}", "PATCH", "/api/projects/beta", """{"log_budget_hour": -1}""", [400, 400, 404, 404, 404, 400, 401]),

        // Members: admins manage all; managers all but admins, and never to admin; users none; outsiders see no project.
        Api("/api/projects/{project}/members/{user}", "PUT", "/api/projects/alpha/members/uma", """{"role": "user"}""", [200, 200, 200, 200, 403, 404, 401]),
        Api("/api/projects/{project}/members/{user}", "PUT", "/api/projects/alpha/members/alice", """{"role": "admin"}""", [200, 200, 200, 403, 403, 404, 401]),
        Api("/api/projects/{project}/members/{user}", "PUT", "/api/projects/alpha/members/nobody", """{"role": "manager"}""", [404, 404, 404, 404, 403, 404, 401]),
        Api("/api/projects/{project}/members/{user}", "PUT", "/api/projects/alpha/members/nobody", """{"role": "admin"}""", [404, 404, 404, 403, 403, 404, 401]),
        Api("/api/projects/{project}/members/{user}", "PUT", "/api/projects/beta/members/nina", """{"role": "admin"}""", [200, 200, 404, 404, 404, 200, 401]),
        Api("/api/projects/{project}/members/{user}", "DELETE", "/api/projects/alpha/members/nobody", null, [404, 404, 404, 404, 403, 404, 401]),
        Api("/api/projects/{project}/members/{user}", "DELETE", "/api/projects/beta/members/nobody", null, [404, 404, 404, 404, 404, 404, 401]),

        // Secrets: admins and managers set and delete them (a value too short to mask, so nothing is set); every member lists their names.
        Api("/api/projects/{project}/secrets/{name}", "PUT", "/api/projects/alpha/secrets/HF_TOKEN", """{"value": "ab"}""", [400, 400, 400, 400, 403, 404, 401]),
        Api("/api/projects/{project}/secrets/{name}", "PUT", "/api/projects/beta/secrets/HF_TOKEN", """{"value": "ab"}""", [400, 400, 404, 404, 404, 400, 401]),
        Api("/api/projects/{project}/secrets/{name}", "PUT", "/api/projects/main/secrets/HF_TOKEN", """{"value": "ab"}""", [400, 400, 404, 404, 404, 404, 401]),
        Api("/api/projects/{project}/secrets", "GET", "/api/projects/alpha/secrets", null, [200, 200, 200, 200, 200, 404, 401]),
        Api("/api/projects/{project}/secrets", "GET", "/api/projects/beta/secrets", null, [200, 200, 404, 404, 404, 200, 401]),
        Api("/api/projects/{project}/secrets/{name}", "DELETE", "/api/projects/alpha/secrets/NOBODY", null, [404, 404, 404, 404, 403, 404, 401]),
        Api("/api/projects/{project}/secrets/{name}", "DELETE", "/api/projects/beta/secrets/NOBODY", null, [404, 404, 404, 404, 404, 404, 401]),

        // Runners are the installation's: global admins only (a body or name the rules refuse, so nothing changes).
        Api("/api/runners", "GET", "/api/runners", null, [200, 200, 403, 403, 403, 403, 401]),
        Api("/api/runners", "POST", "/api/runners", """{"url": "not a url"}""", [400, 400, 403, 403, 403, 403, 401]),
        Api("/api/runners/{name}/drain", "POST", "/api/runners/nobody/drain", null, [404, 404, 403, 403, 403, 403, 401]),
        Api("/api/runners/{name}", "DELETE", "/api/runners/nobody", null, [404, 404, 403, 403, 403, 403, 401]),

        // Code is content-addressed and shared: anyone signed in may ask for it or send it (an empty body is no archive).
        Api("/api/code/{sha256}", "HEAD", "/api/code/" + new string('0', 64), null, [404, 404, 404, 404, 404, 404, 401]),
        Api("/api/code/{sha256}", "PUT", "/api/code/" + new string('0', 64), "", [400, 400, 400, 400, 400, 400, 401]),

        // The web page's reads, with each caller's session: a deleted user's session ends with them.
        Web("/web/api/projects/{project}/runs/{run_name}", "/web/api/projects/alpha/runs/done", [200, 200, 200, 200, 200, 404, 401]),
        Web("/web/api/projects/{project}/runs/{run_name}/logs", "/web/api/projects/alpha/runs/done/logs", [200, 200, 200, 200, 200, 404, 401]),
        Web("/web/api/projects/{project}/runs/{run_name}", "/web/api/projects/beta/runs/done", [200, 200, 404, 404, 404, 200, 401]),
        Web("/web/api/projects/{project}/runs/{run_name}/logs", "/web/api/projects/beta/runs/done/logs?format=text", [200, 200, 404, 404, 404, 200, 401]),
        Web("/web/api/runs/{run_name}", "/web/api/runs/done", [200, 200, 404, 404, 404, 404, 401]),
        Web("/web/api/runs/{run_name}/logs", "/web/api/runs/done/logs", [200, 200, 404, 404, 404, 404, 401]),
        Web("/web/api/projects/{project}/runs/{run_name}/logs", "/web/api/projects/beta/runs/done/logs?q=done&regex=true", [200, 200, 404, 404, 404, 200, 401]),
        Web("/web/api/projects/{project}/runs/{run_name}/sections", "/web/api/projects/alpha/runs/done/sections", [200, 200, 200, 200, 200, 404, 401]),
        Web("/web/api/runs/{run_name}/sections", "/web/api/runs/done/sections", [200, 200, 404, 404, 404, 404, 401]),

        // Metrics hold every project's run names: the operator's token only (DSTACK_SERVER_METRICS_TOKEN, else the admin token).
        Api("/metrics", "GET", "/metrics", null, [200, 401, 401, 401, 401, 401, 401]),
    ];

    /// <summary>The runs endpoints of a project the column's caller is (<paramref name="member"/>) or is not in.</summary>
    private static IEnumerable<Rule> ProjectRuns(string project, bool member)
    {
        int[] Reach(int ok) => member ? [ok, ok, ok, ok, ok, 404, 401] : [ok, ok, 404, 404, 404, ok, 401];
        const string Runs = "/api/projects/{project}/runs";
        var runs = $"/api/projects/{project}/runs";
        return
        [
            Api(Runs, "POST", runs, InvalidRun, Reach(400)),
            Api(Runs, "GET", runs, null, Reach(200)),
            Api(Runs + "/{run_name}", "GET", runs + "/done", null, Reach(200)),
            Api(Runs + "/{run_name}/stop", "POST", runs + "/done/stop", null, Reach(200)),
            Api(Runs + "/{run_name}", "DELETE", runs + "/busy", null, Reach(409)),
            Api(Runs + "/{run_name}/logs", "GET", runs + "/done/logs", null, Reach(200)),
            Api(Runs + "/{run_name}/logs", "GET", runs + "/done/logs?format=text", null, Reach(200)),
            Api(Runs + "/{run_name}/logs", "GET", runs + "/done/logs?q=done", null, Reach(200)),
            Api(Runs + "/{run_name}/logs", "GET", runs + "/done/logs?line=last", null, Reach(200)),
            Api(Runs + "/{run_name}/sections", "GET", runs + "/done/sections", null, Reach(200)),
            Api(Runs + "/{run_name}", "GET", runs + "/no-such-run", null, Reach(404)),
        ];
    }

    /// <summary><c>/api/runs</c>, main's alias: only the admins, since nobody else was made a member of main.</summary>
    private static IEnumerable<Rule> MainRuns()
    {
        int[] Admins(int ok) => [ok, ok, 404, 404, 404, 404, 401];
        return
        [
            Api("/api/runs", "POST", "/api/runs", InvalidRun, Admins(400)),
            Api("/api/runs", "GET", "/api/runs", null, Admins(200)),
            Api("/api/runs/{run_name}", "GET", "/api/runs/done", null, Admins(200)),
            Api("/api/runs/{run_name}/stop", "POST", "/api/runs/done/stop", null, Admins(200)),
            Api("/api/runs/{run_name}", "DELETE", "/api/runs/busy", null, Admins(409)),
            Api("/api/runs/{run_name}/logs", "GET", "/api/runs/done/logs", null, Admins(200)),
            Api("/api/runs/{run_name}/logs", "GET", "/api/runs/done/logs?q=done", null, Admins(200)),
            Api("/api/runs/{run_name}/sections", "GET", "/api/runs/done/sections", null, Admins(200)),
        ];
    }

    private static Rule Api(string route, string method, string path, string? body, int[] expected) => new(route, method, path, body, Web: false, expected);

    private static Rule Web(string route, string path, int[] expected) => new(route, "GET", path, null, Web: true, expected);
}
