using System.Text.Json;
using Esp.Fidelity.Tests.Emulator;
using Esp.Protocol.Commands;
using Esp.Protocol.Stubs;
using Esp.Simulator;

namespace Esp.Fidelity.Tests;

/// <summary>
/// The same bytes to QEMU's real loader and to the virtual chip, requests in flight included; what comes back must be
/// the same, so that a test against the virtual chip fails where the real code would. (Replies are compared by opcode,
/// data, value where it means something, and the first two status bytes: the ROMs leave stale bytes in the last two.)
/// </summary>
public class DifferentialTests
{
    private static VirtualChip Virtual(QemuChip qemu) => new(new VirtualChipOptions
    {
        Chip = qemu.Chip,
        Mac = qemu.Mac,
        Peripherals = PeripheralProfile.QemuLike,
        PrintBootBanner = false,
        Link = new LinkOptions { BaudThrottle = true },
        FlashTiming = new FlashTimingOptions { Enabled = true },
    });

    private static async Task<RawPort> OpenQemuAsync(QemuChip qemu)
    {
        var client = new System.Net.Sockets.TcpClient { NoDelay = true };
        await client.ConnectAsync(System.Net.IPAddress.Loopback, qemu.Port);
        return new RawPort(client.GetStream());
    }

    /// <summary>Runs <paramref name="script"/> on both and compares every reply it collects.</summary>
    private static async Task CompareAsync(string chip, bool rom, Func<RawPort, bool, Task<List<byte[]>>> script)
    {
        await QemuChip.RunAsync(chip, null, async qemu =>
        {
            List<byte[]> real, simulated;
            await using (var port = await OpenQemuAsync(qemu))
                real = await script(port, false);
            await using (var sim = Virtual(qemu))
            await using (var port = new RawPort(sim.OpenHostStream()))
                simulated = await script(port, true);
            Assert.Equal(Describe(real, rom), Describe(simulated, rom));
        });
    }

    private static List<string> Describe(List<byte[]> frames, bool rom) => [.. frames.Select(f =>
    {
        if (f.Length < 8 || f[0] != 1) return "raw " + Convert.ToHexString(f);
        var op = (Opcode)f[1];
        var body = f.AsSpan(8);
        int statusBytes = rom ? 4 : 2;
        if (body.Length < statusBytes) return "short " + Convert.ToHexString(f);
        string value = op is Opcode.ReadReg or Opcode.Sync ? BitConverter.ToUInt32(f, 4).ToString("X8") : "-";
        return $"{op} value {value} data {Convert.ToHexString(body[..^statusBytes])} status {Convert.ToHexString(body[^statusBytes..][..2])}";
    })];

    private static async Task<List<byte[]>> SyncAsync(RawPort port)
    {
        await port.SendAsync(RawPort.Frame(Opcode.Sync, ProtocolConstants.SyncPayload.ToArray()));
        var replies = await port.ReceiveAsync(8, TimeSpan.FromSeconds(1));
        Assert.Equal(8, replies.Count);
        await Task.Delay(100);
        return replies;
    }

    private static async Task WriteWordsAsync(RawPort port, uint at, int count)
    {
        for (int i = 0; i < count; i++)
            Assert.NotNull(await port.TransactAsync(RawPort.Frame(Opcode.WriteReg, at + (uint)(4 * i), 0xA5000000u + (uint)i, 0xFFFFFFFF, 0)));
    }

    private static uint RamOf(string chip) => chip == "esp32" ? 0x3FFB2000u : 0x3FCB0000u;

    [Theory]
    [InlineData("esp32")]
    [InlineData("esp32c3")]
    public async Task RomAnswersEightReadRegsInFlightInOrder(string chip)
    {
        await CompareAsync(chip, rom: true, async (port, _) =>
        {
            await SyncAsync(port);
            uint ram = RamOf(chip);
            await WriteWordsAsync(port, ram, 8);
            await port.SendAsync([.. Enumerable.Range(0, 8).Select(i => RawPort.Frame(Opcode.ReadReg, ram + (uint)(4 * i)))]);
            var replies = await port.ReceiveAsync(8, TimeSpan.FromSeconds(2));
            Assert.Equal(8, replies.Count);
            return replies;
        });
    }

    [Theory]
    [InlineData("esp32", 1, 20)]   // 280 bytes behind the MD5: the ESP32's 256-byte ring loses a lap
    [InlineData("esp32c3", 4, 150)] // 2100 bytes: the C3's 2048-byte ring loses a lap
    public async Task RomLosesWholeRingLapsOfRequestsQueuedWhileItHashes(string chip, int mib, int requests)
    {
        await CompareAsync(chip, rom: true, async (port, _) =>
        {
            await SyncAsync(port);
            uint ram = RamOf(chip);
            await WriteWordsAsync(port, ram, requests);
            Assert.NotNull(await port.TransactAsync(RawPort.Frame(Opcode.SpiAttach, 0, 0)));
            Assert.NotNull(await port.TransactAsync(RawPort.Frame(Opcode.SpiSetParams, 0, 4 << 20, 0x10000, 0x1000, 0x100, 0xFFFF)));
            await port.SendAsync([RawPort.Frame(Opcode.SpiFlashMd5, 0, (uint)(mib << 20), 0, 0),
                .. Enumerable.Range(0, requests).Select(i => RawPort.Frame(Opcode.ReadReg, ram + (uint)(4 * i)))]);
            var replies = await port.ReceiveAsync(requests + 1, TimeSpan.FromSeconds(4));
            Assert.True(replies.Count < requests + 1, "nothing was lost");
            Assert.Equal(0x13, replies[0][1]);
            return replies;
        });
    }

    private static async Task UploadStubAsync(RawPort port)
    {
        await SyncAsync(port);
        var json = JsonDocument.Parse(FlasherStubs.Json("esp32c3.json")).RootElement;
        foreach (var (field, start) in new[] { ("text", "text_start"), ("data", "data_start") })
        {
            var bytes = Convert.FromBase64String(json.GetProperty(field).GetString()!);
            uint at = json.GetProperty(start).GetUInt32();
            int blocks = (bytes.Length + 0x17FF) / 0x1800;
            Assert.NotNull(await port.TransactAsync(RawPort.Frame(Opcode.MemBegin, (uint)bytes.Length, (uint)blocks, 0x1800, at)));
            for (int i = 0; i < blocks; i++)
                Assert.NotNull(await port.TransactAsync(RawPort.DataFrame(Opcode.MemData, bytes[(i * 0x1800)..Math.Min(bytes.Length, (i + 1) * 0x1800)], (uint)i)));
        }
        await port.SendAsync(RawPort.Frame(Opcode.MemEnd, 0, json.GetProperty("entry").GetUInt32()));
        var greeting = await port.ReceiveAsync(2, TimeSpan.FromSeconds(3));
        Assert.Equal("OHAI"u8.ToArray(), greeting[^1]);
        await Task.Delay(100);
    }

    [Fact]
    public async Task StubDropsARequestSentBehindAnotherAndStaysInStep()
    {
        await CompareAsync("esp32c3", rom: false, async (port, _) =>
        {
            await UploadStubAsync(port);
            uint ram = RamOf("esp32c3");
            await WriteWordsAsync(port, ram, 2);
            await port.SendAsync(RawPort.Frame(Opcode.ReadReg, ram), RawPort.Frame(Opcode.ReadReg, ram + 4));
            var replies = await port.ReceiveAsync(2, TimeSpan.FromSeconds(1));
            Assert.Single(replies);
            replies.Add(await port.TransactAsync(RawPort.Frame(Opcode.ReadReg, ram + 4)) ?? []);
            return replies;
        });
    }

    [Fact]
    public async Task StubAnswersOneOfTwoDataBlocksInFlightThenIsOutOfStepUntilAnExtraDelimiter()
    {
        var block = new byte[0x4000];
        new Random(5).NextBytes(block);
        await CompareAsync("esp32c3", rom: false, async (port, _) =>
        {
            await UploadStubAsync(port);
            Assert.NotNull(await port.TransactAsync(RawPort.Frame(Opcode.SpiSetParams, 0, 4 << 20, 0x10000, 0x1000, 0x100, 0xFFFF)));
            Assert.NotNull(await port.TransactAsync(RawPort.Frame(Opcode.FlashBegin, 0x8000, 2, 0x4000, 0x10000, 0)));
            await port.SendAsync(RawPort.DataFrame(Opcode.FlashData, block, 0), RawPort.DataFrame(Opcode.FlashData, block, 1));
            var replies = await port.ReceiveAsync(2, TimeSpan.FromSeconds(4));
            Assert.Single(replies);
            Assert.Null(await port.TransactAsync(RawPort.Frame(Opcode.ReadReg, 0x40001000)));
            await port.SendAsync([Esp.Protocol.Framing.Slip.End]);
            replies.Add(await port.TransactAsync(RawPort.Frame(Opcode.ReadReg, 0x40001000)) ?? []);
            return replies;
        });
    }

    [Fact]
    public async Task RomWriteOfTwoBlocksAndItsMd5AreAnsweredAlike()
    {
        var data = new byte[0x800];
        new Random(6).NextBytes(data);
        await CompareAsync("esp32c3", rom: true, async (port, _) =>
        {
            var replies = await SyncAsync(port);
            foreach (var f in new[]
            {
                RawPort.Frame(Opcode.SpiAttach, 0, 0),
                RawPort.Frame(Opcode.SpiSetParams, 0, 4 << 20, 0x10000, 0x1000, 0x100, 0xFFFF),
                RawPort.Frame(Opcode.FlashBegin, 0x1000, 2, 0x400, 0x10000, 0),
                RawPort.DataFrame(Opcode.FlashData, data[..0x400], 0),
                RawPort.DataFrame(Opcode.FlashData, data[0x400..], 1),
                RawPort.Frame(Opcode.SpiFlashMd5, 0x10000, 0x800, 0, 0),
                RawPort.Frame(Opcode.SpiFlashMd5, 0x10000, 0x1000, 0, 0),
            })
                replies.Add(await port.TransactAsync(f) ?? []);
            return replies;
        });
    }
}
