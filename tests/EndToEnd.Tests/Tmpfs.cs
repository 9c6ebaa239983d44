using System.Diagnostics;

namespace LogQuota.EndToEnd.Tests;

/// <summary>A small real tmpfs mounted for one test (root only; otherwise the test is skipped with the reason), unmounted after.</summary>
public sealed class Tmpfs : IAsyncDisposable
{
    private Tmpfs(string path) => Path = path;

    public string Path { get; }

    public static async Task<Tmpfs> MountAsync(int sizeMiB)
    {
        Skip.If(Environment.UserName != "root", "Mounting a tmpfs needs root; this test runs as " + Environment.UserName + ".");
        var path = Directory.CreateTempSubdirectory("logquota-tmpfs-").FullName;
        var (code, output) = await RunAsync("mount", "-t", "tmpfs", "-o", $"size={sizeMiB}m,mode=0700", "tmpfs", path);
        if (code != 0)
        {
            Directory.Delete(path);
            Skip.If(true, $"Cannot mount a tmpfs here (mount exited {code}: {output.Trim()}).");
        }

        return new Tmpfs(path);
    }

    public async ValueTask DisposeAsync()
    {
        var (code, _) = await RunAsync("umount", Path);
        if (code != 0)
        {
            // Something still holds a file open (a process being reaped): detach it now, the kernel frees it after.
            await RunAsync("umount", "-l", Path);
        }

        Directory.Delete(Path);
    }

    private static async Task<(int Code, string Output)> RunAsync(string file, params string[] args)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(90));
        return (process.ExitCode, await output + await error);
    }
}
