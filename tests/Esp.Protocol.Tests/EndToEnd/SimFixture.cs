using System.Text.Json;
using Esp.Protocol.Chips;
using Esp.Protocol.Loader;
using Esp.Simulator;
using Esp.Simulator.Link;

namespace Esp.Protocol.Tests.EndToEnd;

/// <summary>Connects the engine to a fresh virtual chip, in ROM or stub mode.</summary>
public sealed class SimConnection : IAsyncDisposable
{
    public required VirtualChip Chip { get; init; }
    public required EspSession Session { get; init; }

    public static async Task<SimConnection> OpenAsync(string chipKey, bool stub, VirtualChipOptions? options = null, string before = "default-reset")
    {
        var chip = new VirtualChip((options ?? new VirtualChipOptions()) with { Chip = chipKey });
        var transport = SimulatorPort.Connect(chip);
        var session = await EspSession.ConnectAsync(new ConnectOptions
        {
            Port = "sim:" + chipKey,
            Transport = transport,
            Chip = chipKey,
            Baud = 115200,
            Before = before,
            NoStub = !stub,
        });
        return new SimConnection { Chip = chip, Session = session };
    }

    public async ValueTask DisposeAsync()
    {
        await Session.DisposeAsync();
        await Session.Transport.DisposeAsync();
        await Chip.DisposeAsync();
    }
}

