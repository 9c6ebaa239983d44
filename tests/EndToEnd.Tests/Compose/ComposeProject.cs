using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text.Json;
using Xunit.Abstractions;

namespace LogQuota.EndToEnd.Tests.Compose;

/// <summary>
/// <c>docker-compose.yml</c> brought up by <c>docker compose</c> itself, under a project name of its own, with the
/// test's few additions (<c>Compose/compose.test.yml</c>). It builds the images from the repository's Dockerfiles
/// under tags of its own and removes, on <see cref="RemoveAsync"/>, every container, network, volume and image the
/// project made. BuildKit's build cache stays: it is what makes the next run's build warm (no package downloaded
/// again). Every call has a deadline.
/// </summary>
public sealed class ComposeProject
{
    public const string RunnerToken = "compose-runner-token-0123456789";
    public const string AdminToken = "compose-admin-token-0123456789";

    /// <summary>The label docker compose puts on every container, network and volume of a project.</summary>
    private const string ProjectLabel = "com.docker.compose.project";

    private static readonly TimeSpan Short = TimeSpan.FromSeconds(60);

    private readonly ITestOutputHelper _log;
    private readonly Dictionary<string, string?> _env;
    private readonly List<string> _files;

    private ComposeProject(ITestOutputHelper log)
    {
        _log = log;
        Project = $"logquota-test-{Guid.NewGuid():N}"[..22];
        ServerImage = $"{Project}-server:test";
        RunnerImage = $"{Project}-runner:test";
        PythonRunnerImage = $"{Project}-runner-python:test";
        var root = SystemProcesses.RepositoryRoot;
        _files = ["-f", Path.Combine(root, "docker-compose.yml"), "-f", Path.Combine(root, "tests", "EndToEnd.Tests", "Compose", "compose.test.yml")];
        _env = new Dictionary<string, string?>
        {
            ["LOGQUOTA_SERVER_IMAGE"] = ServerImage,
            ["LOGQUOTA_RUNNER_IMAGE"] = RunnerImage,
            ["LOGQUOTA_RUNNER_PYTHON_IMAGE"] = PythonRunnerImage,
            ["DSTACK_RUNNER_TOKEN"] = RunnerToken,
            ["DSTACK_SERVER_ADMIN_TOKEN"] = AdminToken,
            ["LOGQUOTA_TEST_SERVER_QUOTA"] = "52428800",
            // A profile set in the developer's shell would start services the test did not ask for.
            ["COMPOSE_PROFILES"] = null,
            ["COMPOSE_FILE"] = null,
            ["COMPOSE_PROJECT_NAME"] = null,
        };
    }

    /// <summary>The compose project name, unique per test run.</summary>
    public string Project { get; }

    public string ServerImage { get; }

    public string RunnerImage { get; }

    /// <summary>The runners' image of <c>docker-compose.python.yml</c> (built on <c>python:3.12-slim</c>).</summary>
    public string PythonRunnerImage { get; }

    /// <summary>The server's published address on loopback (it changes when the server container starts again).</summary>
    public Uri ServerUrl { get; private set; } = null!;

    /// <summary>
    /// Why this machine cannot run the stack (no usable engine, no Compose v2.24+ plugin, one of
    /// <paramref name="images"/> — a profile's third-party images — not on the engine), or null.
    /// </summary>
    public static async Task<string?> WhyUnavailableAsync(params string[] images)
    {
        if (await DockerEngine.WhyUnavailableAsync(Environment.GetEnvironmentVariable("DOCKER_HOST")) is { } why)
        {
            return why;
        }

        try
        {
            var version = await Command.RunAsync("docker", ["compose", "version", "--short"], TimeSpan.FromSeconds(90));
            if (!(version.ExitCode == 0 && Version.TryParse(version.Stdout.Trim().Split('-', '+')[0], out var v) && v >= new Version(2, 24)))
            {
                return $"The docker CLI has no Compose v2 plugin 2.24+ (needed for the test's `!override`): `docker compose version` said {version.Stdout.Trim()}{version.Stderr.Trim()}.";
            }

            foreach (var image in images)
            {
                // The test pulls nothing (the engine here reaches no registry, and a pulled image would be left behind).
                if ((await Command.RunAsync("docker", ["image", "inspect", "--format", "{{.Id}}", image], TimeSpan.FromSeconds(90))).ExitCode != 0)
                {
                    return $"The image {image} is not on the Docker engine; `docker pull {image}` (or build a stand-in) first.";
                }
            }

            return null;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return $"The Docker engine answers, but there is no docker CLI to run docker compose: {e.Message}.";
        }
    }

    /// <summary>
    /// Builds both images, brings up the default services and those of <paramref name="profiles"/>, runs
    /// <paramref name="body"/>, then removes every container, network, volume and image of the project and asserts that
    /// none is left. A failure of the body is what is thrown, after the services' last log lines went to the test's
    /// output. Everything, the removal excepted, runs within <paramref name="limit"/>. A profile's test is this call with
    /// its profile and its assertions: <c>await ComposeProject.RunAsync(log, ["monitoring"], TimeSpan.FromMinutes(10),
    /// async (stack, ct) =&gt; { var prometheus = await stack.PublishedAsync("prometheus", 9090, ct); ... })</c>.
    /// </summary>
    public static async Task RunAsync(ITestOutputHelper log, IReadOnlyList<string> profiles, TimeSpan limit,
        Func<ComposeProject, CancellationToken, Task> body)
    {
        using var deadline = new CancellationTokenSource(limit);
        var ct = deadline.Token;
        var total = Stopwatch.StartNew();
        var stack = new ComposeProject(log);
        Exception? failure = null;
        try
        {
            var build = Stopwatch.StartNew();
            await stack.ComposeAsync(TimeSpan.FromMinutes(15), ct, [.. ProfileArgs(profiles), "build"]);
            log.WriteLine($"docker compose build: {build.Elapsed.TotalSeconds:0.0} s");
            await stack.UpAsync(profiles, [], ct);
            await body(stack, ct);
        }
        catch (Exception e)
        {
            failure = e;
            log.WriteLine($"FAILED: {e}");
            try
            {
                var logs = await Command.RunAsync("docker", ["compose", "-p", stack.Project, "logs", "--no-color", "--tail", "40"], Short);
                log.WriteLine($"docker compose logs --tail 40:\n{logs.Stdout}{logs.Stderr}");
            }
            catch (Exception logsFailed) when (logsFailed is TimeoutException or System.ComponentModel.Win32Exception)
            {
                log.WriteLine($"docker compose logs failed: {logsFailed.Message}");
            }
        }

        var left = await stack.RemoveAsync();
        log.WriteLine($"whole test: {total.Elapsed.TotalSeconds:0.0} s");
        if (failure is not null)
        {
            log.WriteLine(string.Join('\n', left));
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
        }

        Assert.True(left.Count == 0, string.Join('\n', left));
    }

    /// <summary>
    /// <c>docker compose up -d --wait</c> of the default services (or only <paramref name="services"/>) and those of
    /// <paramref name="profiles"/>: returns once every started container is healthy. A profile's case is then a few lines
    /// of the test: <c>await stack.UpAsync(["monitoring"], [], ct)</c>, then its assertions.
    /// </summary>
    public async Task UpAsync(IReadOnlyList<string> profiles, IReadOnlyList<string> services, CancellationToken ct)
    {
        var watch = Stopwatch.StartNew();
        // 360 s: the profiles' eight containers took 117-156 s to be healthy at a load average of 35-60.
        string[] args = [.. ProfileArgs(profiles), "up", "-d", "--no-build", "--wait", "--wait-timeout", "360", .. services];
        await ComposeAsync(TimeSpan.FromMinutes(7), ct, args);
        ServerUrl = await PublishedAsync("server", 3000, ct);
        _log.WriteLine($"docker compose {string.Join(' ', args)}: {watch.Elapsed.TotalSeconds:0.0} s; server at {ServerUrl}");
    }

    /// <summary>
    /// Adds a compose file of the repository (<paramref name="relativePath"/>, e.g. <c>docker-compose.python.yml</c>)
    /// after the others to every later call, as <c>-f</c> does on the command line.
    /// </summary>
    public void AddFile(string relativePath) =>
        _files.AddRange(["-f", Path.Combine(SystemProcesses.RepositoryRoot, relativePath)]);

    /// <summary>Recreates the server container with <c>DSTACK_SERVER_LOG_QUOTA_PER_JOB_HOUR=quota</c> (same volume, same runners).</summary>
    public async Task RecreateServerAsync(long quota, CancellationToken ct)
    {
        _env["LOGQUOTA_TEST_SERVER_QUOTA"] = $"{quota}";
        await UpAsync([], ["--no-deps", "server"], ct);
    }

    /// <summary>The id of <paramref name="service"/>'s container.</summary>
    public async Task<string> ContainerIdAsync(string service, CancellationToken ct)
    {
        var id = (await ComposeAsync(Short, ct, "ps", "-a", "-q", service)).Stdout.Trim();
        Assert.False(id.Length == 0, $"the project has no container of {service}");
        return id;
    }

    /// <summary>SIGKILLs <paramref name="service"/>'s container (no shutdown of any kind).</summary>
    public Task KillAsync(string service, CancellationToken ct) => ComposeAsync(Short, ct, "kill", "-s", "SIGKILL", service);

    /// <summary>Starts <paramref name="service"/>'s container again and waits until the server answers on its (new) port.</summary>
    public async Task StartServerAgainAsync(CancellationToken ct)
    {
        await ComposeAsync(Short, ct, "start", "server");
        ServerUrl = await PublishedAsync("server", 3000, ct);
        await SystemProcesses.WaitHealthyAsync(ServerUrl, () => false, () => "the server container did not answer after docker compose start");
    }

    /// <summary>The server's <c>ports</c> in docker-compose.yml alone (without the test's override), as docker compose reads them.</summary>
    public async Task<JsonElement> ShippedServerPortsAsync(CancellationToken ct)
    {
        var config = await Command.RunAsync("docker", ["compose", "-p", Project, "-f", _files[1], "config", "--format", "json"], Short, _env, ct);
        using var json = JsonDocument.Parse(config.EnsureSuccess().Stdout);
        return json.RootElement.GetProperty("services").GetProperty("server").GetProperty("ports").Clone();
    }

    /// <summary>A client of the server's API with the admin token.</summary>
    public HttpClient ServerClient() => ClientOf(ServerUrl);

    /// <summary>A client of the API at <paramref name="baseAddress"/> (a replica, the balancer) with the admin token.</summary>
    public static HttpClient ClientOf(Uri baseAddress)
    {
        var client = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(60) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminToken);
        return client;
    }

    /// <summary>
    /// <c>GET /api/healthcheck</c> of <paramref name="service"/>'s runner, asked from inside its container (runners are
    /// not published) with bash's <c>/dev/tcp</c>, as the image's health check does.
    /// </summary>
    public async Task<JsonElement> RunnerHealthAsync(string service, CancellationToken ct)
    {
        var result = await ComposeAsync(Short, ct, "exec", "-T", service, "bash", "-c",
            """exec 3<>/dev/tcp/127.0.0.1/10999 && printf 'GET /api/healthcheck HTTP/1.0\r\n\r\n' >&3 && cat <&3""");
        var body = result.Stdout[(result.Stdout.IndexOf("\n{", StringComparison.Ordinal) + 1)..];
        using var json = JsonDocument.Parse(body);
        return json.RootElement.Clone();
    }

    /// <summary>Runs <c>docker compose -p PROJECT -f docker-compose.yml -f compose.test.yml ARGS</c>; throws unless it exits 0.</summary>
    public async Task<CommandResult> ComposeAsync(TimeSpan timeout, CancellationToken ct, params string[] args)
    {
        var result = await Command.RunAsync("docker", ["compose", "-p", Project, .. _files, .. args], timeout, _env, ct);
        return result.EnsureSuccess();
    }

    /// <summary>
    /// <c>docker compose down -v</c>, then removes the images it built; answers what the engine still holds of the
    /// project (containers, networks, volumes, images by the project's label or tags): empty when all is gone.
    /// </summary>
    public async Task<IReadOnlyList<string>> RemoveAsync()
    {
        var problems = new List<string>();
        try
        {
            await ComposeAsync(TimeSpan.FromMinutes(2), CancellationToken.None, "--profile", "*", "down", "-v", "--remove-orphans", "--timeout", "5");
        }
        catch (Exception e) when (e is InvalidOperationException or TimeoutException)
        {
            problems.Add(e.Message);
        }

        var images = await Docker(["image", "ls", "-q", "--filter", $"label={ProjectLabel}={Project}"]);
        var byTag = new List<string>();
        foreach (var tag in Tags)
        {
            byTag.AddRange(await Docker(["image", "ls", "-q", tag]));
        }

        var ids = images.Concat(byTag).Where(id => !id.StartsWith('(')).Distinct().ToArray();
        if (ids.Length > 0)
        {
            var removed = await Command.RunAsync("docker", ["image", "rm", "-f", .. ids], Short, _env);
            if (removed.ExitCode != 0)
            {
                problems.Add(removed.Stderr);
            }
        }

        foreach (var (kind, args) in new (string, string[])[]
                 {
                     ("container", ["ps", "-a", "-q", "--filter", $"label={ProjectLabel}={Project}"]),
                     ("network", ["network", "ls", "-q", "--filter", $"label={ProjectLabel}={Project}"]),
                     ("volume", ["volume", "ls", "-q", "--filter", $"label={ProjectLabel}={Project}"]),
                     ("image", ["image", "ls", "-q", "--filter", $"label={ProjectLabel}={Project}"]),
                 }.Concat(Tags.Select(tag => ("image", new[] { "image", "ls", "-q", tag }))))
        {
            problems.AddRange((await Docker(args)).Select(id => $"{kind} {id} of project {Project} is still there"));
        }

        return problems;
    }

    /// <summary>The ids a listing printed; a listing that fails is itself something left to look at, never an exception here.</summary>
    private async Task<string[]> Docker(string[] args)
    {
        var result = await Command.RunAsync("docker", args, Short, _env);
        return result.ExitCode == 0
            ? result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            : [$"(`{result.Command}` failed: {result.Stderr.Trim()})"];
    }

    private string[] Tags => [ServerImage, RunnerImage, PythonRunnerImage];

    private static IEnumerable<string> ProfileArgs(IReadOnlyList<string> profiles) => profiles.SelectMany(p => new[] { "--profile", p });

    /// <summary>The loopback address at which <paramref name="service"/>'s container <paramref name="port"/> is published.</summary>
    public async Task<Uri> PublishedAsync(string service, int port, CancellationToken ct)
    {
        var result = await ComposeAsync(Short, ct, "port", service, $"{port}");
        var address = result.Stdout.Trim();
        // The shipped file publishes on loopback only, and so does the test's override: never 0.0.0.0.
        Assert.StartsWith("127.0.0.1:", address, StringComparison.Ordinal);
        return new Uri($"http://{address}");
    }
}
