using Esp.Protocol.Commands;
using Esp.Protocol.Loader;
using Esp.Protocol.Operations;
using Esp.Protocol.Transport;
using Esp.Simulator;
using Esp.Simulator.Link;

namespace Esp.Protocol.Tests.EndToEnd;

/// <summary>
/// A session cut off mid-frame leaves the flasher stub's toggling SLIP decoder out of step; the next session's sync
/// shifts the delimiter phase to put it back. On a slow link the answer to the shifted SYNC comes after the sync
/// timeout, while a later try has shifted the phase back: the connect must not take that late answer as proof.
/// </summary>
public sealed class DelimiterPhaseTests
{
    private static int _next;

    [Theory]
    [InlineData(0)]
    [InlineData(175)]
    public async Task AStubCutOffMidFrameAnswersTheNextSessionOnASlowLink(int latencyMs)
    {
        var latency = TimeSpan.FromMilliseconds(latencyMs);
        await using var chip = new VirtualChip(new VirtualChipOptions
        {
            Chip = "esp32c3",
            Link = new LinkOptions { HostToChipLatency = latency, ChipToHostLatency = latency },
        });
        var scheme = $"phase{Interlocked.Increment(ref _next)}";
        TransportFactory.Register(scheme, (name, o, _) => Task.FromResult(SimulatorPort.Connect(chip, name, o.BaudRate)));
        var options = new ConnectOptions { Port = $"{scheme}:c3", Chip = "esp32c3", Baud = 115200, Before = "no-reset", After = "no-reset", ConnectAttempts = 2 };
        var data = new byte[0x2000];
        new Random(latencyMs).NextBytes(data);

        await using (var first = await EspSession.ConnectAsync(options))
        {
            Assert.IsType<StubLoader>(first.Loader);
            var block = new byte[0x1000];
            var frame = Esp.Protocol.Framing.Slip.Encode(Request.BuildData(Opcode.FlashData, block, 0));
            await first.Transport.WriteAsync(frame.AsMemory(0, frame.Length / 2));
            await Task.Delay(latency + TimeSpan.FromMilliseconds(100)); // the half frame reaches the chip before the link drops
        }
        await using (var second = await EspSession.ConnectAsync(options))
        {
            Assert.IsType<StubLoader>(second.Loader);
            Assert.True((await FlashWriter.WriteAsync(second, 0x20000, data)).Verified);
        }
        Assert.Equal(data, chip.Flash.Read(0x20000, data.Length));
    }
}
