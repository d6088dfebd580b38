using Esp.Protocol.Chips;
using Esp.Protocol.Loader;
using Esp.Simulator;
using Esp.Simulator.Link;

namespace Esp.Bench;

/// <summary>The engine connected to a fresh virtual chip over the simulator's link model.</summary>
public sealed class Rig : IAsyncDisposable
{
    public required VirtualChip Chip { get; init; }
    public required EspSession Session { get; init; }
    public required bool Stub { get; init; }

    /// <summary>
    /// Connects like the CLI does: at 115200 (the ROM's rate), reset into download mode, optional stub upload,
    /// then CHANGE_BAUDRATE to <paramref name="baud"/>.
    /// </summary>
    public static async Task<Rig> OpenAsync(string chipKey, bool stub, LinkOptions link, int baud,
        FlashTimingOptions? timing = null, EspTimeouts? timeouts = null, int flashSize = 16 * 1024 * 1024, LoaderWindows? windows = null)
    {
        var chip = new VirtualChip(new VirtualChipOptions
        {
            Chip = chipKey,
            FlashSize = flashSize,
            Link = link,
            FlashTiming = timing ?? new FlashTimingOptions(),
        });
        var transport = SimulatorPort.Connect(chip);
        var session = await EspSession.ConnectAsync(new ConnectOptions
        {
            Port = "sim:" + chipKey,
            Transport = transport,
            Chip = chipKey,
            Baud = baud,
            Before = "default-reset",
            NoStub = !stub,
            Timeouts = timeouts ?? EspTimeouts.Default,
            Windows = windows,
        });
        await session.EnsureFlashAttachedAsync(default);
        if (chip.ChipBaud != baud || transport.BaudRate != baud)
            throw new InvalidOperationException($"Baud change did not take: chip {chip.ChipBaud}, host {transport.BaudRate}.");
        return new Rig { Chip = chip, Session = session, Stub = stub };
    }

    public async ValueTask DisposeAsync()
    {
        await Session.DisposeAsync();
        await Session.Transport.DisposeAsync();
        await Chip.DisposeAsync();
    }
}
