namespace LogQuota.Runner.Configuration;

/// <summary>
/// Who this runner is, whatever address it is reached at: an id made at its first start and kept in its directory
/// (<c>runner-id</c>, 0600), so a server that knows it as <c>http://localhost:11001</c> and one that knows it as
/// <c>http://127.0.0.1:11001</c> see one runner. The directory holds its jobs' spools, so the id lives exactly as long as
/// what it names: a runner started on a fresh directory is a new runner.
/// </summary>
public sealed record RunnerIdentity(string Id)
{
    /// <summary>The file in <c>DSTACK_RUNNER_DIR</c> that holds the id.</summary>
    public const string FileName = "runner-id";

    /// <summary>Reads the id from <paramref name="dir"/>, making it there first when there is none (or it is not one of ours).</summary>
    /// <remarks>Called under the directory's lock, so two processes never make two ids for one directory.</remarks>
    public static RunnerIdentity Load(string dir)
    {
        var path = Path.Combine(dir, FileName);
        if (File.Exists(path) && Guid.TryParseExact(File.ReadAllText(path).Trim(), "N", out var known))
        {
            return new RunnerIdentity(known.ToString("N"));
        }

        var id = Guid.NewGuid().ToString("N");

        // Written beside and renamed into place: a runner killed mid-write leaves the old file or the new one, never half.
        var temp = path + ".tmp";
        File.WriteAllText(temp, id + "\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(temp, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        File.Move(temp, path, overwrite: true);
        return new RunnerIdentity(id);
    }
}
