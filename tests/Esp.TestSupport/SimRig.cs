using Esp.Protocol.Loader;
using Esp.Protocol.Transport;
using Esp.Simulator;
using Esp.Simulator.Link;

namespace Esp.TestSupport;

/// <summary>
/// The engine connected to a fresh virtual chip over the in-process link: what the engine tests, the reliability
/// tests and the benchmarks run against.
/// </summary>
public sealed class SimRig : IAsyncDisposable
{
    public required VirtualChip Chip { get; init; }
    public required EspSession Session { get; init; }

    /// <summary>What the session talks through: the link to the chip, or its wrapper (<see cref="SimRigOptions.Link"/>).</summary>
    public required IEspTransport Transport { get; init; }

    /// <summary>
    /// Builds a virtual <paramref name="chipKey"/> from <paramref name="chipOptions"/> and connects to it as the CLI
    /// does: reset into download mode, sync, detect, the flasher stub unless <paramref name="stub"/> is false, then
    /// the baud rate of <paramref name="options"/>.
    /// </summary>
    public static async Task<SimRig> OpenAsync(string chipKey, bool stub, VirtualChipOptions? chipOptions = null,
        SimRigOptions? options = null, CancellationToken ct = default)
    {
        options ??= new SimRigOptions();
        var chip = new VirtualChip((chipOptions ?? new VirtualChipOptions()) with { Chip = chipKey });
        IEspTransport transport = SimulatorPort.Connect(chip, "sim:" + chipKey);
        if (options.Link is { } wrap) transport = wrap(transport);
        var connect = new ConnectOptions
        {
            Port = "sim:" + chipKey,
            Transport = transport,
            Chip = chipKey,
            Baud = options.Baud,
            NoStub = !stub,
            Windows = options.Windows,
        };
        if (options.Before is { } before) connect = connect with { Before = before };
        if (options.After is { } after) connect = connect with { After = after };
        if (options.Timeouts is { } timeouts) connect = connect with { Timeouts = timeouts };
        try
        {
            var session = await EspSession.ConnectAsync(connect, ct).ConfigureAwait(false);
            return new SimRig { Chip = chip, Session = session, Transport = transport };
        }
        catch
        {
            await transport.DisposeAsync().ConfigureAwait(false);
            await chip.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Session.DisposeAsync().ConfigureAwait(false);
        await Transport.DisposeAsync().ConfigureAwait(false);
        await Chip.DisposeAsync().ConfigureAwait(false);
    }
}
