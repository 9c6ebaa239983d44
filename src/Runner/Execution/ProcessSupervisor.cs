using System.Runtime.InteropServices;
using System.Text;
using LogQuota.Runner.Isolation;

namespace LogQuota.Runner.Execution;

/// <summary>
/// Receives a chunk of the job's raw output; the span is only valid during the call.
/// <paramref name="readTimestamp"/> is the clock's timestamp taken as the chunk's first read returned.
/// </summary>
internal delegate void OutputHandler(ReadOnlySpan<byte> chunk, long readTimestamp);

/// <summary>
/// Owns one job's process: starts it in a new session under a pseudo-terminal or on a pipe, pumps
/// its output, reaps it, and signals or kills its whole tree. Every method that blocks is meant
/// for a dedicated thread: output is read with plain read(2) because a pty master is not a file
/// .NET's async I/O can poll, and a blocking reader costs one thread per job, which is cheap next
/// to the job itself.
/// </summary>
internal sealed unsafe partial class ProcessSupervisor : IDisposable
{
    /// <summary>
    /// How long output is still drained after the main process exited and its tree was killed.
    /// Only a process that escaped every tracking method (new session, cleared environment,
    /// reparented) can hold the terminal open longer; the job must end anyway.
    /// </summary>
    private static readonly TimeSpan DrainAfterExit = TimeSpan.FromSeconds(2);

    /// <summary>64 KiB per read: a pty hands out at most ~4 KiB at a time, a pipe up to its 64 KiB buffer.</summary>
    private const int ReadBufferSize = 64 * 1024;

    /// <summary>Gathering stops when less than one pty read's worth of room is left.</summary>
    private const int MinGatherRoom = 4096;

    private readonly int _outputFd;

    /// <summary>
    /// Wakes the output thread when the main process exits (an eventfd, close-on-exec): until then only output or its end
    /// can end the thread's wait, so an idle job's reader sleeps in poll(2) with no timeout instead of waking ten times a
    /// second (bench/RESULTS.md). -1 where no eventfd could be made: the reader then polls every 100 ms, as before.
    /// </summary>
    private readonly int _wakeFd;
    private readonly JobSandbox _sandbox;
    private readonly IJobKill _kill;
    private readonly IExternalJob? _external;
    private long _drainDeadlineTicks = long.MaxValue;
    private int _closed;

    private ProcessSupervisor(int pid, int outputFd, JobLaunch launch)
    {
        Pid = pid;
        _outputFd = outputFd;
        _wakeFd = Native.eventfd(0, Native.EFD_CLOEXEC | Native.EFD_NONBLOCK);
        _sandbox = launch.Sandbox;
        // The start time is read while the main process cannot have been reaped yet: only this supervisor reaps it.
        _kill = launch.Sandbox.BindKill(pid, launch.Marker, ProcessTree.StartTimeOf(pid));
        _external = launch.External;
    }

    /// <summary>The main process's pid; also the job's session and process group id.</summary>
    public int Pid { get; }

    /// <summary>Starts the job. Throws <see cref="JobStartException"/> when it cannot.</summary>
    public static ProcessSupervisor Start(JobLaunch launch)
    {
        ArgumentNullException.ThrowIfNull(launch);
        if (!Directory.Exists(launch.WorkingDirectory))
        {
            throw new JobStartException($"Working directory {launch.WorkingDirectory} does not exist");
        }

        try
        {
            return launch.Tty ? StartOnTerminal(launch) : StartOnPipe(launch);
        }
        catch
        {
            launch.Sandbox.Release();
            throw;
        }
    }

    private static ProcessSupervisor StartOnTerminal(JobLaunch launch)
    {
        // O_CLOEXEC on the master: a job spawned concurrently must never inherit another job's
        // terminal, or that terminal would never report end of output.
        var master = Native.posix_openpt(Native.O_RDWR | Native.O_NOCTTY | Native.O_CLOEXEC);
        if (master < 0)
        {
            throw new JobStartException($"Cannot open a pseudo-terminal: {Native.Describe(Marshal.GetLastPInvokeError())}");
        }

        try
        {
            var name = stackalloc byte[128];
            if (Native.grantpt(master) != 0 || Native.unlockpt(master) != 0 || Native.ptsname_r(master, name, 128) != 0)
            {
                throw new JobStartException($"Cannot prepare the pseudo-terminal: {Native.Describe(Marshal.GetLastPInvokeError())}");
            }

            // The run's width (roomy by default, so progress bars keep their counters) and the screen's 50 rows: a program
            // that asks for the size draws for the screen its log is stored from.
            var size = new Native.WinSize { Rows = 50, Cols = (ushort)launch.Columns };
            _ = Native.ioctl(master, Native.TIOCSWINSZ, &size);

            // The terminal belongs to the job's uid, mode 0600: no other job may open it (grantpt left it 0620, group tty).
            var slave = Marshal.PtrToStringUTF8((nint)name)!;
            launch.Sandbox.Own(slave);
            FileModes.Set(slave, FileModes.PrivateFile);

            // The child opens the terminal by name after setsid(): a session leader without a
            // controlling terminal that opens one without O_NOCTTY acquires it, so the job gets a
            // real controlling terminal. glibc applies POSIX_SPAWN_SETSID before the file actions.
            var pid = Spawn(launch, actions =>
            {
                Check(Native.posix_spawn_file_actions_addopen(actions, 0, name, Native.O_RDWR, 0));
                Check(Native.posix_spawn_file_actions_adddup2(actions, 0, 1));
                Check(Native.posix_spawn_file_actions_adddup2(actions, 0, 2));
            });
            SetNonBlocking(master);
            return new ProcessSupervisor(pid, master, launch);
        }
        catch
        {
            _ = Native.close(master);
            throw;
        }
    }

    private static ProcessSupervisor StartOnPipe(JobLaunch launch)
    {
        var fds = stackalloc int[2];
        if (Native.pipe2(fds, Native.O_CLOEXEC) != 0)
        {
            throw new JobStartException($"Cannot create a pipe: {Native.Describe(Marshal.GetLastPInvokeError())}");
        }

        var (readEnd, writeEnd) = (fds[0], fds[1]);
        try
        {
            var devNull = "/dev/null\0"u8;
            int pid;
            fixed (byte* devNullPath = devNull)
            {
                var path = devNullPath;
                pid = Spawn(launch, actions =>
                {
                    Check(Native.posix_spawn_file_actions_addopen(actions, 0, path, Native.O_RDONLY, 0));
                    // One pipe for both streams keeps stdout and stderr in the order they were written.
                    Check(Native.posix_spawn_file_actions_adddup2(actions, writeEnd, 1));
                    Check(Native.posix_spawn_file_actions_adddup2(actions, writeEnd, 2));
                });
            }

            _ = Native.close(writeEnd);
            SetNonBlocking(readEnd);
            return new ProcessSupervisor(pid, readEnd, launch);
        }
        catch
        {
            _ = Native.close(readEnd);
            _ = Native.close(writeEnd);
            throw;
        }
    }

    private static void SetNonBlocking(int fd)
    {
        var flags = Native.fcntl(fd, Native.F_GETFL, 0);
        _ = Native.fcntl(fd, Native.F_SETFL, flags | Native.O_NONBLOCK);
    }

    /// <summary>
    /// Reads the job's output until the terminal or pipe reports its end (every writer closed), or
    /// until <see cref="DrainAfterExit"/> after <see cref="OnMainExited"/>. Blocks; run on a dedicated thread.
    /// </summary>
    public void PumpOutput(OutputHandler onOutput, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(onOutput);
        ArgumentNullException.ThrowIfNull(time);
        var pollFds = stackalloc Native.PollFd[2];
        while (ReadWaitingOutput(onOutput, time))
        {
            if (Environment.TickCount64 > Interlocked.Read(ref _drainDeadlineTicks))
            {
                return;
            }

            // Before the main process exits, only output, its end or the wake-up ends the wait. After, 100 ms bounds how
            // late the drain deadline is noticed (the wake fd, readable from then on, is left out); data wakes poll at once.
            var beforeExit = _wakeFd >= 0 && Interlocked.Read(ref _drainDeadlineTicks) == long.MaxValue;
            pollFds[0] = new Native.PollFd { Fd = _outputFd, Events = Native.POLLIN };
            pollFds[1] = new Native.PollFd { Fd = _wakeFd, Events = Native.POLLIN };
            _ = Native.poll(pollFds, beforeExit ? 2u : 1u, beforeExit ? -1 : 100);
        }
    }

    /// <summary>
    /// Reads and hands on everything the job's output holds now, in a buffer held only meanwhile (<see cref="OutputBuffers"/>):
    /// true when nothing more is waiting (EAGAIN), false at the output's end.
    /// </summary>
    private bool ReadWaitingOutput(OutputHandler onOutput, TimeProvider time)
    {
        var buffer = OutputBuffers.Pool.Rent(ReadBufferSize);
        try
        {
            fixed (byte* p = buffer)
            {
                while (true)
                {
                    var n = Native.read(_outputFd, p, ReadBufferSize);
                    if (n > 0)
                    {
                        var readAt = time.GetTimestamp();

                        // A pty hands out ~4 KiB per read. While a fast job keeps more waiting, gather
                        // it into one chunk: fewer, larger log events keep the per-job millisecond
                        // timestamps (strictly increasing) from running ahead of the clock.
                        var filled = (int)n;
                        while (ReadBufferSize - filled >= MinGatherRoom)
                        {
                            var more = Native.read(_outputFd, p + filled, ReadBufferSize - filled);
                            if (more <= 0)
                            {
                                break; // EAGAIN (nothing waiting) or end of output: the next loop sees it again
                            }

                            filled += (int)more;
                        }

                        onOutput(new ReadOnlySpan<byte>(p, filled), readAt);
                        continue;
                    }

                    if (n == 0)
                    {
                        return false; // pipe: every writer closed
                    }

                    var errno = Marshal.GetLastPInvokeError();
                    if (errno == Native.EINTR)
                    {
                        continue;
                    }

                    // Nothing waiting (EAGAIN), or a pty master's EIO once every slave descriptor is closed.
                    return errno == Native.EAGAIN;
                }
            }
        }
        finally
        {
            OutputBuffers.Pool.Return(buffer);
        }
    }

    /// <summary>Waits for the main process and returns its exit status (128 + signal when killed by one). Blocks.</summary>
    public int WaitForExit()
    {
        int status;
        while (true)
        {
            var result = Native.waitpid(Pid, &status, 0);
            if (result == Pid)
            {
                break;
            }

            var errno = Marshal.GetLastPInvokeError();
            if (result < 0 && errno != Native.EINTR)
            {
                // ECHILD: someone else reaped it (never expected); report it as killed.
                return 128 + Native.SIGKILL;
            }
        }

        var signal = status & 0x7f;
        return signal == 0 ? (status >> 8) & 0xff : 128 + signal;
    }

    /// <summary>Starts the drain deadline: output is read for at most <see cref="DrainAfterExit"/> more.</summary>
    public void OnMainExited()
    {
        Interlocked.Exchange(ref _drainDeadlineTicks, Environment.TickCount64 + (long)DrainAfterExit.TotalMilliseconds);
        if (_wakeFd >= 0)
        {
            // After the deadline is set: a reader that read it unset is in, or about to enter, a poll this write ends.
            ulong one = 1;
            _ = Native.write(_wakeFd, (byte*)&one, sizeof(ulong));
        }

        _external?.OnLocalExit();
    }

    /// <summary>Sends <paramref name="signal"/> once to every live process of the job (in the other system first, when it runs there).</summary>
    public void SignalTree(int signal)
    {
        _external?.Signal(signal);
        _kill.Signal(signal);
    }

    /// <summary>SIGKILLs every process of the job (its cgroup, its PID namespace, or each one the scan finds) until none is left alive. Blocks until then.</summary>
    public int KillTree()
    {
        _external?.Kill();
        return _kill.KillAll();
    }

    /// <summary>How the other system that runs the job ended it; null for a job run here, or one it did not end.</summary>
    public ExternalEnding? ExternalEnding => _external?.Ending;

    /// <summary>How many of the job's processes the kernel killed for passing its memory limit; 0 without one.</summary>
    public long OomKills => _sandbox.Memory?.OomKills() ?? 0;

    /// <summary>The job's memory limit in bytes, or null.</summary>
    public long? MemoryLimit => _sandbox.Memory?.Limit;

    /// <summary>Closes the output descriptor and releases the job's sandbox (its cgroup, its uid). After the job's processes are gone.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _closed, 1) == 0)
        {
            _ = Native.close(_outputFd);
            if (_wakeFd >= 0)
            {
                _ = Native.close(_wakeFd);
            }

            _sandbox.Release();
        }
    }
}
