using Esp.Protocol.Errors;
using Esp.Protocol.Transport;

namespace Esp.Simulator.Link;

/// <summary>
/// The <c>sim:</c> port scheme: <c>sim:esp32?flash=4MB&amp;state=flash.bin</c> opens an in-process virtual chip
/// and links the engine to it. The engine and the simulator share no code; this class only joins their streams.
/// </summary>
public static class SimulatorPort
{
    private static int _registered;

    /// <summary>Registers <c>sim:</c> with <see cref="TransportFactory"/> (once per process; later calls do nothing).</summary>
    public static void Register()
    {
        if (Interlocked.Exchange(ref _registered, 1) == 0)
            TransportFactory.Register("sim", OpenAsync);
    }

    public static Task<IEspTransport> OpenAsync(string uri, TransportOptions options, CancellationToken cancellationToken)
    {
        VirtualChip chip;
        try
        {
            chip = VirtualChip.FromUri(uri);
        }
        catch (ArgumentException ex)
        {
            throw new EspException(EspErrorCode.InvalidPortUri, $"The virtual chip port '{uri}' is not valid: {ex.Message}",
                "Write it as sim:<chip>?flash=4MB&state=<file>, e.g. sim:esp32c3?flash=8MB.");
        }
        catch (IOException ex)
        {
            throw new EspException(EspErrorCode.PortBusy, $"The virtual chip's state file for '{uri}' cannot be used: {ex.Message}");
        }
        return Task.FromResult(Connect(chip, uri, options.BaudRate, ownsChip: true));
    }

    /// <summary>Links the engine to an existing virtual chip (tests keep the chip to inspect it afterwards).</summary>
    public static IEspTransport Connect(VirtualChip chip, string name = "sim", int baud = 115200, bool ownsChip = false)
    {
        chip.SetHostBaud(baud);
        var stream = chip.OpenHostStream();
        return new StreamTransport(
            name, stream, baud,
            setLines: (dtr, rts, _) =>
            {
                chip.SetLines(dtr, rts);
                return Task.CompletedTask;
            },
            setBaud: (b, _) =>
            {
                chip.SetHostBaud(b);
                return Task.CompletedTask;
            },
            owner: ownsChip ? chip : null);
    }
}
