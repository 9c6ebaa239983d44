using LogQuota.Shared.Hosting;

namespace LogQuota.Server.Configuration;

/// <summary>The failures that stop the server before it serves, each as the one line to print (exit code 1).</summary>
internal static class StartupErrors
{
    /// <summary>The line for <paramref name="exception"/>, or null when it is not a known start-up failure.</summary>
    /// <param name="exception">What stopped start-up.</param>
    /// <param name="address">The address the server was to listen on, for a failure to listen that does not say it.</param>
    public static string? Describe(Exception exception, string? address) => exception switch
    {
        SettingsException e => e.Message,
        Runner.Configuration.SettingsException e => $"The local runner (in {ServerSettingsLoader.DirVariable}/runner) cannot start: {e.Message}.",
        DirectoryInUseException e => $"{ServerSettingsLoader.DirVariable} {e.Message}.",
        _ when StartupFailure.IsListenFailure(exception) =>
            $"{StartupFailure.DescribeListenFailure(exception, address, ServerSettingsLoader.HostVariable, ServerSettingsLoader.PortVariable)}.",
        _ => null,
    };
}
