using Microsoft.Win32.SafeHandles;

namespace LogQuota.Runner.Isolation;

/// <summary>The modes of the runner's files (SPEC §7), set exactly whatever the umask. The runner runs on Linux; the guards satisfy the platform analyzer.</summary>
internal static class FileModes
{
    /// <summary>0700: spool directories, job homes.</summary>
    public const UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <summary>0600: spool files.</summary>
    public const UnixFileMode PrivateFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>0711: others may pass through to a path they know, never list it.</summary>
    public const UnixFileMode Traversable = Private | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;

    /// <summary>Creates <paramref name="path"/> (and its parents) and gives it exactly <paramref name="mode"/>.</summary>
    public static void CreateDirectory(string path, UnixFileMode mode)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
            return;
        }

        Directory.CreateDirectory(path, mode);
        File.SetUnixFileMode(path, mode);
    }

    public static void Set(SafeFileHandle file, UnixFileMode mode)
    {
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(file, mode);
        }
    }

    public static void Set(string path, UnixFileMode mode)
    {
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, mode);
        }
    }
}
