namespace LogQuota.Cli.Terminal;

/// <summary>
/// Resizes of the terminal (SIGWINCH) as the commands see them: a follower redraws its live region at the new width at
/// once, instead of leaving the terminal's own rewrap of it on screen until the next page arrives, which on a quiet run
/// may be minutes away. <see cref="Program.Main"/> raises it from the signal; tests raise it themselves.
/// </summary>
public sealed class Resizes
{
    private readonly Lock _lock = new();
    private readonly List<Action> _handlers = [];

    /// <summary>Delivers one resize to every subscriber, on the caller's thread.</summary>
    public void Raise()
    {
        Action[] handlers;
        lock (_lock)
        {
            handlers = [.. _handlers];
        }

        foreach (var handler in handlers)
        {
            handler();
        }
    }

    /// <summary>Calls <paramref name="onResize"/> at each resize until the returned subscription is disposed.</summary>
    public IDisposable Subscribe(Action onResize)
    {
        ArgumentNullException.ThrowIfNull(onResize);
        lock (_lock)
        {
            _handlers.Add(onResize);
        }

        return new Subscription(this, onResize);
    }

    private sealed class Subscription(Resizes owner, Action handler) : IDisposable
    {
        public void Dispose()
        {
            lock (owner._lock)
            {
                owner._handlers.Remove(handler);
            }
        }
    }
}
