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
            StubFile = stub ? FakeStub.FileFor(ChipDatabase.Get(chipKey)) : null,
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

/// <summary>
/// A stub file shaped like esptool's, with meaningless code bytes at the chip's real stub addresses: we ship
/// no stub binary, and the virtual chip recognises a stub by where it is loaded and started.
/// </summary>
public static class FakeStub
{
    private static readonly Dictionary<string, string> Files = [];

    public static string FileFor(ChipDefinition chip)
    {
        lock (Files)
        {
            if (Files.TryGetValue(chip.Key, out var path)) return path;
            var loc = chip.StubFor("2")!;
            var rng = new Random((int)loc.Entry);
            var text = new byte[loc.TextEnd - loc.TextStart];
            rng.NextBytes(text);
            var data = new byte[256];
            rng.NextBytes(data);
            uint dataStart = loc.DataEnd - (uint)data.Length;
            var json = JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["entry"] = loc.Entry,
                ["text"] = Convert.ToBase64String(text),
                ["text_start"] = loc.TextStart,
                ["data"] = Convert.ToBase64String(data),
                ["data_start"] = dataStart,
                ["bss_start"] = loc.DataStart,
            });
            path = Path.Combine(Path.GetTempPath(), $"esp-build-test-stub-{chip.Key}-{Environment.ProcessId}.json");
            File.WriteAllText(path, json);
            Files[chip.Key] = path;
            return path;
        }
    }
}
