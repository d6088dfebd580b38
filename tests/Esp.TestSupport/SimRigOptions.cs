using Esp.Protocol.Chips;
using Esp.Protocol.Loader;
using Esp.Protocol.Transport;

namespace Esp.TestSupport;

/// <summary>How a <see cref="SimRig"/> connects. What is left null keeps the engine's default (<see cref="ConnectOptions"/>).</summary>
public sealed record SimRigOptions
{
    /// <summary>The rate after connecting. The ROM's own 115200 by default, so that no CHANGE_BAUDRATE is sent.</summary>
    public int Baud { get; init; } = 115200;

    /// <summary><see cref="ConnectOptions.Before"/>.</summary>
    public string? Before { get; init; }

    /// <summary><see cref="ConnectOptions.After"/>.</summary>
    public string? After { get; init; }

    /// <summary><see cref="ConnectOptions.Timeouts"/>.</summary>
    public EspTimeouts? Timeouts { get; init; }

    /// <summary><see cref="ConnectOptions.Windows"/>: requests in flight instead of what the loader is known to take.</summary>
    public LoaderWindows? Windows { get; init; }

    /// <summary>Wraps the link to the chip, e.g. to tamper with the host's frames.</summary>
    public Func<IEspTransport, IEspTransport>? Link { get; init; }
}
