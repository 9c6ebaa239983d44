using LogQuota.Hosting;
using LogQuota.Runner;
using LogQuota.Runner.Configuration;
using LogQuota.Shared.Hosting;

// Exit codes (docs/server.md): 0 stopped, 2 a bad setting, 1 any other start-up failure. Each failure is one line.
RunnerSettings? settings = null;
try
{
    settings = RunnerSettings.FromEnvironment(Environment.GetEnvironmentVariables());

    // Read: the token leaves the environment, and a runner that is not root becomes non-dumpable (SPEC §7).
    ProcessHardening.Apply();
    var app = RunnerApplication.Build(settings);
    // Debug: an idle service logs nothing (the first return, soon after start-up, gives back what start-up left).
    using var memoryReturn = ServiceDefaults.StartMemoryReturn(app.Logger);
    await app.RunUntilStoppedAsync();
    return 0;
}
catch (SettingsException e)
{
    await Console.Error.WriteLineAsync($"logquota-runner: {e.Message}");
    return 2;
}
catch (DirectoryInUseException e)
{
    await Console.Error.WriteLineAsync($"logquota-runner: DSTACK_RUNNER_DIR {e.Message}");
    return 1;
}
catch (Exception e) when (StartupFailure.IsListenFailure(e))
{
    var address = settings is null ? null : $"http://{settings.Host}:{settings.Port}";
    await Console.Error.WriteLineAsync($"logquota-runner: {StartupFailure.DescribeListenFailure(e, address, "DSTACK_RUNNER_HOST", "DSTACK_RUNNER_PORT")}");
    return 1;
}
