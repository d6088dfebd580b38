using Esp.Protocol.Errors;
using Esp.Protocol.Transport;
using Esp.Simulator;

namespace Esp.Cli;

/// <summary>
/// The <c>sim:</c> port scheme (<c>sim:esp32?flash=4MB&amp;state=FILE</c>): an in-process virtual chip joined to the
/// engine by a stream. Interim until Esp.Simulator.Link's SimulatorPort lands; same behaviour, same names.
/// </summary>
internal static class SimLink
{
    public static void Register()
    {
        if (!TransportFactory.IsRegistered("sim")) TransportFactory.Register("sim", OpenAsync);
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
        return new StreamTransport(name, stream, baud,
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
