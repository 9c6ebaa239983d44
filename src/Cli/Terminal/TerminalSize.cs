using System.Runtime.InteropServices;

namespace LogQuota.Cli.Terminal;

/// <summary>
/// The terminal's width as the kernel has it now. <see cref="Console.WindowWidth"/> is cached until the runtime has
/// handled the SIGWINCH of a resize, which on a busy machine comes after the next draw: the live region's rows were then
/// counted at a stale width, and the erase took a stored row with it (narrowing then widening a tmux pane quickly).
/// </summary>
internal static partial class TerminalSize
{
    // TIOCGWINSZ on Linux (every architecture .NET runs on); elsewhere the console's own answer is used.
    private const nuint GetWindowSize = 0x5413;

    private const int StandardOutput = 1;

    /// <summary>Columns of the terminal on standard output.</summary>
    public static int Columns()
    {
        if (OperatingSystem.IsLinux() && ioctl(StandardOutput, GetWindowSize, out var size) == 0 && size.Columns > 0)
        {
            return size.Columns;
        }

        return Console.WindowWidth;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct WinSize
    {
        public ushort Rows;
        public ushort Columns;
        public ushort XPixels;
        public ushort YPixels;
    }

    [LibraryImport("libc", SetLastError = false)]
    private static partial int ioctl(int fd, nuint request, out WinSize size);
}
