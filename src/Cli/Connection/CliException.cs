namespace LogQuota.Cli.Connection;

/// <summary>An error the user can act on; <see cref="Exception.Message"/> is the line printed after <c>error: </c>.</summary>
public sealed class CliException : Exception
{
    /// <summary>The exit code of a command line that cannot be run as written.</summary>
    public const int UsageExitCode = 2;

    /// <summary>Creates the exception.</summary>
    public CliException()
    {
    }

    /// <summary>Creates the exception with the line to print.</summary>
    public CliException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with the line to print and the process exit code.</summary>
    public CliException(string message, int exitCode)
        : base(message)
    {
        ExitCode = exitCode;
    }

    /// <summary>Creates the exception with the line to print and its cause.</summary>
    public CliException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The exit code of the process.</summary>
    public int ExitCode { get; } = 1;
}
