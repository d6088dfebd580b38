using Esp.Protocol.Transport;
using Esp.Simulator;

namespace Esp.FaultCampaign.Ports;

/// <summary>
/// How a run reaches its chip: the port name the path opens, the ports the system lists (for discovery and for
/// finding a board that came back), and what the port itself injected.
/// </summary>
public abstract class ChipPort : IAsyncDisposable
{
    /// <summary>The chip behind the port, for one run (chosen by the scenario).</summary>
    public static ChipPort For(Scenario scenario, VirtualChip chip, string runDirectory) => scenario.NeedsSerialPort
        ? new DisappearingPort(chip, scenario, runDirectory)
        : new InProcessPort(chip, scenario);

    /// <summary>What to pass as --port / EspPort / ConnectOptions.Port.</summary>
    public abstract string Port { get; }

    /// <summary>The reset before connecting: a port that can drive DTR/RTS resets the chip, a pseudo-terminal cannot.</summary>
    public abstract string Before { get; }

    /// <summary>The serial ports the system lists now (the per-task / per-command port lister).</summary>
    public abstract IReadOnlyList<SerialPortInfo> ListPorts();

    /// <summary>Faults the port injected (garbage bursts, a lost port).</summary>
    public abstract long FaultsInjected { get; }

    public abstract ValueTask DisposeAsync();
}
