using System.Diagnostics;
using System.Text;

namespace LogQuota.Cli.Tests.Infrastructure;

/// <summary>A temporary project directory on disk, optionally a real git repository, removed on dispose.</summary>
public sealed class ProjectTree : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("logquota-code-");

    public string Root => _dir.FullName;

    /// <summary>A fresh git repository (<c>git init</c>) with an identity of its own for commits.</summary>
    public static ProjectTree Git()
    {
        var tree = new ProjectTree();
        tree.RunGit("init", "-q", "-b", "main");
        tree.RunGit("config", "user.email", "test@example.com");
        tree.RunGit("config", "user.name", "test");
        return tree;
    }

    /// <summary>Writes <paramref name="text"/> to <paramref name="path"/> (relative, <c>/</c>-separated), creating directories.</summary>
    public string Write(string path, string text) => WriteBytes(path, Encoding.UTF8.GetBytes(text));

    public string WriteBytes(string path, byte[] bytes)
    {
        var full = Path.Combine(Root, path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        File.WriteAllBytes(full, bytes);
        return full;
    }

    /// <summary>A file of <paramref name="size"/> random (incompressible) bytes, written in chunks.</summary>
    public string WriteRandom(string path, long size)
    {
        var full = Path.Combine(Root, path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        using var file = File.Create(full);
        var chunk = new byte[1 << 20];
        for (var left = size; left > 0; left -= chunk.Length)
        {
            Random.Shared.NextBytes(chunk);
            file.Write(chunk, 0, (int)Math.Min(left, chunk.Length));
        }

        return full;
    }

    public void MakeExecutable(string path)
    {
        if (!OperatingSystem.IsWindows())
        {
            var full = Path.Combine(Root, path);
            File.SetUnixFileMode(full, File.GetUnixFileMode(full) | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
        }
    }

    public void Symlink(string path, string target) => File.CreateSymbolicLink(Path.Combine(Root, path), target);

    /// <summary>Runs git in the tree (or <paramref name="subdirectory"/> of it); returns its stdout, asserting it succeeded.</summary>
    public string RunGit(params string[] args) => RunGitIn("", args);

    public string RunGitIn(string subdirectory, params string[] args)
    {
        var info = new ProcessStartInfo("git") { WorkingDirectory = Path.Combine(Root, subdirectory), RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var git = Process.Start(info)!;
        var stdout = git.StandardOutput.ReadToEndAsync();
        var stderr = git.StandardError.ReadToEnd();
        git.WaitForExit();
        Assert.True(git.ExitCode == 0, $"git {string.Join(' ', args)} failed: {stderr}");
        return stdout.Result;
    }

    /// <summary>What <c>git ls-files -co --exclude-standard</c> lists in <paramref name="subdirectory"/>, less files deleted from the work tree.</summary>
    public SortedSet<string> GitShows(string subdirectory = "")
    {
        var listed = RunGitIn(subdirectory, "ls-files", "-co", "--exclude-standard", "-z").Split('\0', StringSplitOptions.RemoveEmptyEntries);
        var dir = Path.Combine(Root, subdirectory);
        return new SortedSet<string>(
            listed.Where(p => File.Exists(Path.Combine(dir, p)) || new FileInfo(Path.Combine(dir, p)).LinkTarget is not null),
            StringComparer.Ordinal);
    }

    public void Dispose() => _dir.Delete(recursive: true);
}
