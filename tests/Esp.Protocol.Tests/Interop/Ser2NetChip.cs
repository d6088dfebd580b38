using Esp.Protocol.Loader;
using Esp.Simulator;
using Esp.TestSupport.Interop;

namespace Esp.Protocol.Tests.Interop;

/// <summary>
/// A virtual chip on a pseudo-terminal with ser2net in front of it: the engine reaches the chip through
/// <c>rfc2217://</c>, ser2net and a tty, as it reaches a board in a remote lab.
/// </summary>
internal sealed class Ser2NetChip : IAsyncDisposable
{
    private Ser2NetChip(VirtualChip chip, PtyHost pty, Ser2NetServer server)
    {
        Chip = chip;
        Pty = pty;
        Server = server;
    }

    public VirtualChip Chip { get; }
    public PtyHost Pty { get; }
    public Ser2NetServer Server { get; }

    public static async Task<Ser2NetChip> StartAsync(VirtualChipOptions? options = null, CancellationToken ct = default)
    {
        var chip = new VirtualChip(options ?? new VirtualChipOptions { Chip = "esp32c3" });
        PtyHost? pty = null;
        try
        {
            pty = new PtyHost(chip);
            var server = await Ser2NetServer.StartAsync(pty.DevicePath, ct);
            return new Ser2NetChip(chip, pty, server);
        }
        catch
        {
            pty?.Dispose();
            await chip.DisposeAsync();
            throw;
        }
    }

    /// <summary>Options for a chip that is already in download mode: ser2net cannot drive DTR/RTS on a pty.</summary>
    public ConnectOptions Options(int baud = 115200, bool stub = true, string before = "no-reset", string after = "no-reset", Action<string>? log = null) => new()
    {
        Port = Server.Uri,
        Chip = Chip.Options.Chip,
        Baud = baud,
        Before = before,
        After = after,
        NoStub = !stub,
        ConnectAttempts = 3,
        Log = log,
    };

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        Pty.Dispose();
        await Chip.DisposeAsync();
    }
}
