namespace LogQuota.Server.Configuration;

/// <summary>A setting that stops start-up; <see cref="Exception.Message"/> is the one line shown to the operator.</summary>
public sealed class SettingsException : Exception
{
    /// <summary>Creates the exception.</summary>
    public SettingsException()
    {
    }

    /// <summary>Creates the exception with the line to show.</summary>
    public SettingsException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with the line to show and its cause.</summary>
    public SettingsException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
