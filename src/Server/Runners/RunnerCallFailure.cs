using Refit;

namespace LogQuota.Server.Runners;

/// <summary>A failed runner call, told in one log line: the exception's type and message, never its stack.</summary>
/// <remarks>A dead runner fails every call of every pass; with stacks that was ~40 lines per call (395 lines in 30 s
/// for one job). The stack is logged at Debug for whoever needs it.</remarks>
internal static class RunnerCallFailure
{
    /// <summary>"HttpRequestException: Connection refused (127.0.0.1:10999)".</summary>
    public static string Describe(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);

        // Refit wraps transport failures in ApiRequestException ("An error occurred sending the request"); the cause says more.
        var e = exception is ApiRequestException { InnerException: { } inner } ? inner : exception;
        var message = string.Join(' ', e.Message.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        return $"{e.GetType().Name}: {message}";
    }
}
