using LogQuota.Runner;
using LogQuota.Runner.Configuration;

try
{
    var app = RunnerApplication.Build(RunnerSettings.FromEnvironment(Environment.GetEnvironmentVariables()));
    await app.RunAsync();
    return 0;
}
catch (SettingsException e)
{
    await Console.Error.WriteLineAsync($"logquota-runner: {e.Message}");
    return 2;
}
