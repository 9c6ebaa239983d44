using System.Runtime.InteropServices;
using System.Text;
using LogQuota.Runner.Execution;
using Microsoft.Win32.SafeHandles;

namespace LogQuota.Runner.Code;

/// <summary>
/// The code directory as the unpacker fills it. Every name is created with a <c>*at</c> call relative to a directory
/// descriptor, and every directory on the way is opened with O_DIRECTORY | O_NOFOLLOW from the code directory down,
/// so nothing is ever created through a symbolic link, whatever the archive or anyone else put on the way. It
/// also remembers what the archive made, for clear refusals: a name given twice, a file written through an earlier
/// symlink entry, a hard link to anything but an earlier file of the archive.
/// </summary>
internal sealed unsafe class CodeTree : IDisposable
{
    /// <summary>Directories the archive implies without an entry of their own (<c>a/</c> of <c>a/b</c>), as tar makes them.</summary>
    private const uint ImpliedDirectoryMode = 0b111_101_101;

    /// <summary>The owner's rwx, kept on every directory: the job writes its outputs there, and the runner deletes it afterwards.</summary>
    private const uint OwnerAll = 0b111_000_000;

    private enum Node
    {
        Directory,
        File,
        Symlink,
    }

    private readonly int _root;
    private readonly Dictionary<string, Node> _nodes = new(StringComparer.Ordinal);
    private string? _parentKey;
    private int _parentFd = -1;

    private CodeTree(int root) => _root = root;

    /// <summary>Opens the existing code directory <paramref name="directory"/> (not a symlink).</summary>
    public static CodeTree Open(string directory)
    {
        var bytes = Encoding.UTF8.GetBytes(directory + "\0");
        fixed (byte* path = bytes)
        {
            var fd = Native.open(path, Native.O_RDONLY | Native.O_DIRECTORY | Native.O_NOFOLLOW | Native.O_CLOEXEC);
            return fd >= 0
                ? new CodeTree(fd)
                : throw new IOException($"cannot open the code directory {directory}: {Native.Describe(Marshal.GetLastPInvokeError())}");
        }
    }

    /// <summary>A directory with <paramref name="mode"/> and the owner's rwx; an existing directory takes the mode.</summary>
    public void CreateDirectory(string name, string[] parts, uint mode)
    {
        if (parts.Length == 0)
        {
            return; // "./": the code directory itself, whose mode is the runner's
        }

        var key = string.Join('/', parts);
        if (_nodes.TryGetValue(key, out var node) && node != Node.Directory)
        {
            throw CodePaths.Refuse(name, "is a directory, but the archive already made that name a file or symlink");
        }

        var parent = Parent(name, parts);
        var dir = OpenDirectory(name, parent, parts[^1], create: true);
        try
        {
            Check(name, Native.fchmod(dir, (mode & 0b111_111_111) | OwnerAll), "cannot be given its mode");
        }
        finally
        {
            Native.close(dir);
        }

        _nodes[key] = Node.Directory;
    }

    /// <summary>A new regular file with exactly <paramref name="mode"/> (no setuid, setgid or sticky bit), open for writing.</summary>
    public SafeFileHandle CreateFile(string name, string[] parts, uint mode)
    {
        var (parent, last, key) = NewName(name, parts, "file");
        int fd;
        fixed (byte* n = Utf8(last))
        {
            fd = Native.openat(parent, n, Native.O_WRONLY | Native.O_CREAT | Native.O_EXCL | Native.O_NOFOLLOW | Native.O_CLOEXEC, 0b110_000_000);
        }

        Check(name, fd, "cannot be created");
        var handle = new SafeFileHandle(fd, ownsHandle: true);
        _nodes[key] = Node.File;

        // fchmod, unlike the mode of openat, ignores the umask; the mode binds later opens only, not this descriptor.
        if (Native.fchmod(fd, mode & 0b111_111_111) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            handle.Dispose();
            throw CodePaths.Refuse(name, $"cannot be given its mode: {Native.Describe(errno)}");
        }

        return handle;
    }

    /// <summary>A symbolic link; its target was checked by <see cref="CodePaths.CheckSymlinkTarget"/>.</summary>
    public void CreateSymlink(string name, string[] parts, string target)
    {
        var (parent, last, key) = NewName(name, parts, "symlink");
        fixed (byte* t = Utf8(target))
        fixed (byte* n = Utf8(last))
        {
            Check(name, Native.symlinkat(t, parent, n), "cannot be created");
        }

        _nodes[key] = Node.Symlink;
    }

    /// <summary>A hard link to <paramref name="target"/> (checked by <see cref="CodePaths.HardLinkTarget"/>), which must be a file this archive made earlier.</summary>
    public void CreateHardLink(string name, string[] parts, string target, string[] targetParts)
    {
        if (!_nodes.TryGetValue(string.Join('/', targetParts), out var node) || node != Node.File)
        {
            throw CodePaths.NotAnEarlierFile(name, target);
        }

        // The target's directories were all made or opened by this tree before, so walking them creates nothing.
        var targetParent = Walk(name, targetParts[..^1]);
        try
        {
            var (parent, last, key) = NewName(name, parts, "hard link");
            fixed (byte* t = Utf8(targetParts[^1]))
            fixed (byte* n = Utf8(last))
            {
                // flags 0: the target itself is never followed, were it a symlink by now.
                Check(name, Native.linkat(targetParent, t, parent, n, 0), "cannot be created");
            }

            _nodes[key] = Node.File;
        }
        finally
        {
            if (targetParent != _root)
            {
                Native.close(targetParent);
            }
        }
    }

    /// <summary>The parent descriptor and last component of a name that must not exist yet in this archive.</summary>
    private (int Parent, string Last, string Key) NewName(string name, string[] parts, string kind)
    {
        if (parts.Length == 0)
        {
            throw CodePaths.Refuse(name, $"is a {kind} in place of the code directory itself");
        }

        var key = string.Join('/', parts);
        if (_nodes.ContainsKey(key))
        {
            throw CodePaths.Refuse(name, "names a path the archive already made");
        }

        return (Parent(name, parts), parts[^1], key);
    }

    /// <summary>The descriptor of the entry's parent directory, made where missing; the last one is kept for the next entry.</summary>
    private int Parent(string name, string[] parts)
    {
        var key = string.Join('/', parts[..^1]);
        if (key != _parentKey)
        {
            var fd = Walk(name, parts[..^1]);
            if (_parentFd >= 0 && _parentFd != _root)
            {
                Native.close(_parentFd);
            }

            (_parentKey, _parentFd) = (key, fd);
        }

        return _parentFd;
    }

    /// <summary>Opens <paramref name="directories"/> one by one from the code directory, making the missing ones; the caller closes it unless it is the root.</summary>
    private int Walk(string name, string[] directories)
    {
        var current = _root;
        try
        {
            for (var i = 0; i < directories.Length; i++)
            {
                var key = string.Join('/', directories[..(i + 1)]);
                switch (_nodes.GetValueOrDefault(key, Node.Directory))
                {
                    case Node.Symlink:
                        throw CodePaths.Refuse(name, $"is written through the symlink {CodePaths.Quote(key)}, an earlier entry");
                    case Node.File:
                        throw CodePaths.Refuse(name, $"is written inside {CodePaths.Quote(key)}, an earlier file");
                }

                var implied = !_nodes.ContainsKey(key);
                var next = OpenDirectory(name, current, directories[i], create: implied);
                if (current != _root)
                {
                    Native.close(current);
                }

                current = next;
                if (implied)
                {
                    _nodes[key] = Node.Directory;
                    Check(name, Native.fchmod(current, ImpliedDirectoryMode), "cannot have its directories made");
                }
            }

            return current;
        }
        catch
        {
            if (current != _root)
            {
                Native.close(current);
            }

            throw;
        }
    }

    /// <summary>Opens (after making it, with <paramref name="create"/>) directory <paramref name="component"/> of <paramref name="parent"/>, never through a symlink.</summary>
    private static int OpenDirectory(string name, int parent, string component, bool create)
    {
        fixed (byte* c = Utf8(component))
        {
            if (create && Native.mkdirat(parent, c, 0b111_000_000) != 0 && Marshal.GetLastPInvokeError() != Native.EEXIST)
            {
                throw CodePaths.Refuse(name, $"cannot have its directory {CodePaths.Quote(component)} made: {Native.Describe(Marshal.GetLastPInvokeError())}");
            }

            var fd = Native.openat(parent, c, Native.O_RDONLY | Native.O_DIRECTORY | Native.O_NOFOLLOW | Native.O_CLOEXEC, 0);
            return fd >= 0
                ? fd
                : throw CodePaths.Refuse(name, $"passes through {CodePaths.Quote(component)}, which is not a directory: {Native.Describe(Marshal.GetLastPInvokeError())}");
        }
    }

    private static void Check(string name, int result, string what)
    {
        if (result < 0)
        {
            throw CodePaths.Refuse(name, $"{what}: {Native.Describe(Marshal.GetLastPInvokeError())}");
        }
    }

    private static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text + "\0");

    public void Dispose()
    {
        if (_parentFd >= 0 && _parentFd != _root)
        {
            Native.close(_parentFd);
        }

        _parentFd = -1;
        Native.close(_root);
    }
}
