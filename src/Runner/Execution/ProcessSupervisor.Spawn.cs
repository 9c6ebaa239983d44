using System.Runtime.InteropServices;
using System.Text;

namespace LogQuota.Runner.Execution;

/// <summary>
/// The spawn itself: posix_spawn of the job shim (or, without it, of /bin/sh) in a new session with default signal
/// dispositions, and the shim's verdict read from its status pipe.
/// </summary>
internal sealed unsafe partial class ProcessSupervisor
{
    private delegate void FileActionsSetup(void* actions);

    private static int Spawn(JobLaunch launch, FileActionsSetup setupActions)
    {
        var actions = NativeMemory.AllocZeroed(Native.OpaqueSize);
        var attr = NativeMemory.AllocZeroed(Native.OpaqueSize);
        var signals = NativeMemory.AllocZeroed(Native.OpaqueSize);
        var strings = new List<nint>();
        try
        {
            Check(Native.posix_spawn_file_actions_init(actions));
            Check(Native.posix_spawnattr_init(attr));
            setupActions(actions);
            var workingDir = Utf8(launch.WorkingDirectory, strings);
            Check(Native.posix_spawn_file_actions_addchdir_np(actions, workingDir));

            // The runtime ignores SIGPIPE and may block signals on the calling thread; a job must
            // start with default dispositions and an empty mask, as it would from a shell.
            _ = Native.sigfillset(signals);
            Check(Native.posix_spawnattr_setsigdefault(attr, signals));
            _ = Native.sigemptyset(signals);
            Check(Native.posix_spawnattr_setsigmask(attr, signals));
            Check(Native.posix_spawnattr_setflags(attr,
                Native.POSIX_SPAWN_SETSID | Native.POSIX_SPAWN_SETSIGDEF | Native.POSIX_SPAWN_SETSIGMASK));

            var shim = launch.Sandbox.ShimPath;
            List<string> args = shim is null ? ["sh", "-c", launch.ShellCommand] : [shim, .. launch.Sandbox.ShimArguments(launch.Subdirectory), "/bin/sh", "-c", launch.ShellCommand];
            var argv = (byte**)NativeMemory.AllocZeroed((nuint)(args.Count + 1), (nuint)sizeof(byte*));
            strings.Add((nint)argv);
            for (var a = 0; a < args.Count; a++)
            {
                argv[a] = Utf8(args[a], strings);
            }

            var program = Utf8(shim ?? "/bin/sh", strings);
            if (shim is null)
            {
                // Without the shim nothing else closes them: a job inherits its terminal or pipe and no other descriptor.
                Check(Native.posix_spawn_file_actions_addclosefrom_np(actions, 3));
            }

            var envp = (byte**)NativeMemory.AllocZeroed((nuint)(launch.Environment.Count + 1), (nuint)sizeof(byte*));
            strings.Add((nint)envp);
            var i = 0;
            foreach (var (key, value) in launch.Environment)
            {
                envp[i++] = Utf8($"{key}={value}", strings);
            }

            return shim is null ? SpawnChecked(program, actions, attr, argv, envp) : SpawnShim(program, actions, attr, argv, envp);
        }
        finally
        {
            _ = Native.posix_spawn_file_actions_destroy(actions);
            _ = Native.posix_spawnattr_destroy(attr);
            NativeMemory.Free(actions);
            NativeMemory.Free(attr);
            NativeMemory.Free(signals);
            foreach (var p in strings)
            {
                NativeMemory.Free((void*)p);
            }
        }
    }

    private static int SpawnChecked(byte* program, void* actions, void* attr, byte** argv, byte** envp)
    {
        int pid;
        var error = Native.posix_spawn(&pid, program, actions, attr, argv, envp);
        return error == 0 ? pid : throw new JobStartException($"Cannot start the job's process: {Native.Describe(error)}");
    }

    /// <summary>
    /// Spawns the shim with its status pipe on descriptor 3 and waits for its verdict: end of file once it exec'd the
    /// shell (the pipe is close-on-exec), or the step that failed. The wait is the shim's few system calls.
    /// </summary>
    private static int SpawnShim(byte* program, void* actions, void* attr, byte** argv, byte** envp)
    {
        var fds = stackalloc int[2];
        if (Native.pipe2(fds, Native.O_CLOEXEC) != 0)
        {
            throw new JobStartException($"Cannot create a pipe: {Native.Describe(Marshal.GetLastPInvokeError())}");
        }

        int pid;
        try
        {
            Check(Native.posix_spawn_file_actions_adddup2(actions, fds[1], 3));
            pid = SpawnChecked(program, actions, attr, argv, envp);
        }
        finally
        {
            _ = Native.close(fds[1]);
        }

        try
        {
            var message = new byte[512];
            var length = 0;
            fixed (byte* p = message)
            {
                while (length < message.Length)
                {
                    var n = Native.read(fds[0], p + length, message.Length - length);
                    if (n == 0 || (n < 0 && Marshal.GetLastPInvokeError() != Native.EINTR))
                    {
                        break;
                    }

                    length += (int)Math.Max(n, 0);
                }
            }

            if (length == 0)
            {
                return pid;
            }

            int status;
            _ = Native.waitpid(pid, &status, 0); // it exits 127 right after writing
            throw new JobStartException($"Cannot start the job: {Encoding.UTF8.GetString(message, 0, length)}");
        }
        finally
        {
            _ = Native.close(fds[0]);
        }
    }

    private static byte* Utf8(string text, List<nint> owned)
    {
        if (text.Contains('\0', StringComparison.Ordinal))
        {
            throw new JobStartException("Commands, environment and working directory must not contain NUL characters");
        }

        var length = Encoding.UTF8.GetByteCount(text);
        var buffer = (byte*)NativeMemory.Alloc((nuint)length + 1);
        owned.Add((nint)buffer);
        Encoding.UTF8.GetBytes(text, new Span<byte>(buffer, length));
        buffer[length] = 0;
        return buffer;
    }

    private static void Check(int error)
    {
        if (error != 0)
        {
            throw new JobStartException($"Cannot prepare the job's process: {Native.Describe(error)}");
        }
    }
}
