using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using LogQuota.Shared.Contracts;
using LogQuota.Shared.Json;

namespace LogQuota.EndToEnd.Tests;

/// <summary>
/// SPEC §7 for a runner that is not root: the real runner binary started as nobody (uid 65534) by root. It reports
/// <c>users: shared</c>, makes itself non-dumpable (a job of its own uid cannot read its environ) and keeps no token
/// in its environment (not even in the block /proc/PID/environ shows, read here as root).
/// </summary>
public sealed class NonRootRunnerTests : IDisposable
{
    private const string Token = "non-root-runner-token-0123456789";
    private const uint Nobody = 65534;
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("logquota-nonroot-");

    public void Dispose() => _dir.Delete(recursive: true);

    [SkippableFact]
    public async Task NonRootRunner_ReportsSharedUsers_IsNonDumpable_AndHoldsNoTokenInItsEnvironment()
    {
        Skip.If(Environment.UserName != "root", "needs root to start the runner as another, unprivileged user (CI runs as root)");
        Skip.If(!File.Exists("/usr/bin/setpriv"), "needs setpriv (util-linux) to start the runner as nobody");
        var dotnet = DotnetHost();
        var hidden = OperatingSystem.IsLinux() ? UnreadableByOthers(dotnet) : null;
        Skip.If(hidden is not null, $"nobody cannot reach the dotnet host {dotnet}: {hidden} is not readable and searchable by other users");
        var runnerDir = Path.Combine(_dir.FullName, "runner");
        Directory.CreateDirectory(runnerDir);
        Chown(_dir.FullName, Nobody);
        Chown(runnerDir, Nobody);

        // The checkout may lie where nobody cannot read (CI clones under root's 0700 home): nobody runs a copy of the
        // runner's build output (the job shim included) from the test's own directory.
        var app = Path.Combine(_dir.FullName, "app");
        CopyDirectory(Path.GetDirectoryName(SystemProcesses.Dll("Runner"))!, app);

        var port = SystemProcesses.FreePort();
        var info = new ProcessStartInfo("/usr/bin/setpriv") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { "--reuid=65534", "--regid=65534", "--clear-groups", dotnet, "exec", Path.Combine(app, "LogQuota.Runner.dll") })
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment["HOME"] = runnerDir;
        info.Environment["DSTACK_RUNNER_DIR"] = runnerDir;
        info.Environment["DSTACK_RUNNER_PORT"] = $"{port}";
        info.Environment["DSTACK_RUNNER_TOKEN"] = Token;
        using var runner = Process.Start(info)!;
        var stderr = runner.StandardError.ReadToEndAsync();
        var stdout = runner.StandardOutput.ReadToEndAsync();
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(30) };
            var health = await WaitHealthyAsync(http, runner, stderr);
            Assert.Equal(IsolationUsers.Shared, health.Isolation!.Users);

            // What a job of the runner's own uid would read, and what root reads.
            var environ = await File.ReadAllBytesAsync($"/proc/{runner.Id}/environ");
            Assert.DoesNotContain(Token, Encoding.UTF8.GetString(environ), StringComparison.Ordinal);
            Assert.Contains("DSTACK_RUNNER_PORT=", Encoding.UTF8.GetString(environ), StringComparison.Ordinal);

            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token);
            var jobId = Guid.NewGuid();
            var probe = $"id -u; if cat /proc/{runner.Id}/environ >/dev/null 2>&1; then echo environ:read; else echo environ:denied; fi";
            var submit = await http.PostAsJsonAsync("/api/jobs",
                new SubmitBody(jobId, new RunRef(Guid.NewGuid(), "nonroot"), new JobSpec([probe], Tty: false)), LogQuotaJson.Options);
            submit.EnsureSuccessStatusCode();
            var text = await PullTextAsync(http, jobId);
            Assert.Equal("65534\nenviron:denied\n", text);
        }
        finally
        {
            runner.Kill(entireProcessTree: true);
            await runner.WaitForExitAsync();
            _ = await stdout;
            _ = await stderr;
        }
    }

    private static void Chown(string path, uint uid) =>
        Assert.True(chown(path, uid, uid) == 0, $"chown {path} failed");

    [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
    private static extern int chown(string path, uint owner, uint group);

    /// <summary>The dotnet host this test runs on, which nobody must be able to execute too.</summary>
    private static string DotnetHost() =>
        Environment.ProcessPath is { } host && Path.GetFileName(host) == "dotnet" ? host : "/usr/bin/dotnet";

    /// <summary>The first of <paramref name="path"/> and its ancestors that other users cannot search or read, or null.</summary>
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    private static string? UnreadableByOthers(string path)
    {
        for (var current = new FileInfo(Path.GetFullPath(path)).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? Path.GetFullPath(path);
             current is not null;
             current = Path.GetDirectoryName(current))
        {
            var mode = File.GetUnixFileMode(current);
            var needed = Directory.Exists(current) ? UnixFileMode.OtherExecute : UnixFileMode.OtherRead | UnixFileMode.OtherExecute;
            if ((mode & needed) != needed)
            {
                return current;
            }
        }

        return null;
    }

    private static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }

    private static async Task<HealthcheckResponse> WaitHealthyAsync(HttpClient http, Process runner, Task<string> stderr)
    {
        // Generous: a loaded machine can take tens of seconds to start a .NET process.
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (true)
        {
            if (runner.HasExited)
            {
                Assert.Fail($"the non-root runner exited at start-up with status {runner.ExitCode}: {await stderr}");
            }

            try
            {
                return (await http.GetFromJsonAsync<HealthcheckResponse>("/api/healthcheck", LogQuotaJson.Options))!;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                // Refused while the runner starts, or one answer slower than the client's timeout on a loaded machine.
                if (DateTime.UtcNow > deadline)
                {
                    throw new TimeoutException($"the non-root runner did not answer /api/healthcheck within 120 s: {e.Message}", e);
                }

                await Task.Delay(100);
            }
        }
    }

    private static async Task<string> PullTextAsync(HttpClient http, Guid jobId)
    {
        var text = new StringBuilder();
        long cursor = 0;
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (DateTime.UtcNow < deadline)
        {
            var pull = (await http.GetFromJsonAsync<PullResponse>($"/api/jobs/{jobId}/pull?timestamp={cursor}", LogQuotaJson.Options))!;
            foreach (var log in pull.JobLogs)
            {
                text.Append(Encoding.UTF8.GetString(log.Message));
            }

            cursor = pull.LastUpdated;
            if (!pull.HasMore)
            {
                return text.ToString();
            }

            await Task.Delay(50);
        }

        throw new TimeoutException($"job {jobId} did not end within 120 s; its output so far: {text}");
    }
}
