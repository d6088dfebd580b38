using Esp.Protocol.Errors;
using Esp.Protocol.Transport;
using Esp.Simulator;
using Esp.Simulator.Link;

namespace Esp.FaultCampaign.Ports;

/// <summary>
/// The chip on an in-process link, reached through a port scheme of the run's own (<c>campaignN:esp32</c>) so that
/// the task and the command line open it by name as they open any port. Each open is a fresh link, as a reconnect
/// would make; the first one can start with garbage.
/// </summary>
public sealed class InProcessPort : ChipPort
{
    private static int _next;
    private readonly int _seed, _garbageBytes;
    private VirtualChip? _chip;
    private NoisyTransport? _noise;
    private int _opens;
    private long _injected;

    public InProcessPort(VirtualChip chip, Scenario scenario)
    {
        _chip = chip;
        _seed = scenario.Seed;
        _garbageBytes = scenario.GarbageBytes;
        string scheme = $"campaign{Interlocked.Increment(ref _next)}";
        Port = $"{scheme}:{scenario.Chip}";
        TransportFactory.Register(scheme, OpenAsync);
    }

    public override string Port { get; }
    public override string Before => "default-reset";
    public override IReadOnlyList<SerialPortInfo> ListPorts() => [];
    public override long FaultsInjected => Volatile.Read(ref _noise)?.Injected ?? _injected;

    private Task<IEspTransport> OpenAsync(string name, TransportOptions options, CancellationToken ct)
    {
        // The scheme stays registered after the run; the chip does not stay reachable (nor in memory) through it.
        var chip = Volatile.Read(ref _chip)
            ?? throw new EspException(EspErrorCode.PortNotFound, $"The port {name} belongs to a finished run.");
        IEspTransport t = SimulatorPort.Connect(chip, name, options.BaudRate);
        if (Interlocked.Increment(ref _opens) == 1 && _garbageBytes > 0) t = _noise = new NoisyTransport(t, _seed, _garbageBytes);
        return Task.FromResult(t);
    }

    public override ValueTask DisposeAsync()
    {
        Volatile.Write(ref _chip, null);
        _injected = _noise?.Injected ?? 0;
        Volatile.Write(ref _noise, null);
        return ValueTask.CompletedTask;
    }
}
