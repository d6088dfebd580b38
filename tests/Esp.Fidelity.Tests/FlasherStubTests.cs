using Esp.Fidelity.Tests.Emulator;
using Esp.Protocol.Loader;
using Esp.Protocol.Operations;

namespace Esp.Fidelity.Tests;

/// <summary>
/// The shipped esp-flasher-stub, uploaded by the engine to the real ESP32-C3 ROM and run there. (On QEMU's ESP32 this
/// stub does not start, a limitation of the emulator; the ESP32 is covered by the ROM tests.)
/// </summary>
public class FlasherStubTests
{
    private const string Chip = "esp32c3";

    private static byte[] Random(int n, int seed) { var b = new byte[n]; new Random(seed).NextBytes(b); return b; }

    private static byte[] FirmwareLike(int n, int seed)
    {
        var data = new byte[n];
        var rng = new Random(seed);
        for (int i = 0; i < n; i++) data[i] = (byte)(i % 64 < 40 ? i / 64 : rng.Next(256));
        return data;
    }

    [Fact]
    public async Task TheStubStartsAndAnswersTheNextSessionToo()
    {
        var log = new List<string>();
        await QemuChip.RunAsync(Chip, null, async qemu =>
        {
            await using (var session = await Protocol.Loader.EspSession.ConnectAsync(qemu.Options(stub: true, log: log.Add)))
            {
                Assert.True((session.Loader is Esp.Protocol.Loader.StubLoader));
                Assert.NotNull(session.Stub);
                Assert.Contains(log, l => l.StartsWith("Running the flasher stub (esp32c3.json", StringComparison.Ordinal));
                Assert.Equal(qemu.Mac, (await ChipInfo.ReadAsync(session)).Mac);
                await session.FinishAsync(); // --after no-reset: FLASH_BEGIN(0) + FLASH_END(run the ROM), as esptool ends
            }
            // The stub stays resident (it ignores FLASH_END's reboot flag): a new session finds it by its SYNC answer.
            await using var again = await qemu.ConnectAsync(stub: true);
            Assert.IsType<StubLoader>(again.Loader);
            Assert.Null(again.Stub);
        });
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task WriteLandsAndIsVerified(bool compressed)
    {
        // One 16 KiB data block (the compressed image too): on QEMU's ESP32-C3 a block that streams in while the stub
        // writes the previous one usually meets the emulator's lost UART interrupt (see QemuChip; esptool's writes
        // stop at the second block there as well), so multi-block writes are judged on the ROMs and the virtual chip.
        var data = compressed ? FirmwareLike(36_000, 6) : Random(0x4000, 7);
        await QemuChip.RunAsync(Chip, null, async qemu =>
        {
            await using (var session = await qemu.ConnectAsync(stub: true))
            {
                var result = await FlashWriter.WriteAsync(session, 0x30000, data, new FlashWriteOptions { Compress = compressed });
                Assert.True(result.Verified);
                Assert.Equal(compressed, result.Compressed);
            }
            var flash = await qemu.StopAndReadFlashAsync();
            Assert.Equal(data, flash[0x30000..(0x30000 + data.Length)]);
        });
    }

    // A session cut off mid-frame (a cable pulled, a server killed) leaves the stub's toggling SLIP decoder out of
    // step; the next session's sync must put it back in step without a reset, so a resume can finish the write.
    [Fact]
    public async Task AStubCutOffMidFrameAnswersTheNextSession()
    {
        var data = Random(0x4000, 13);
        await QemuChip.RunAsync(Chip, null, async qemu =>
        {
            await using (var first = await qemu.ConnectAsync(stub: true))
            {
                var frame = RawPort.DataFrame(Protocol.Commands.Opcode.FlashData, Random(0x4000, 12), 0);
                await first.Transport.WriteAsync(frame.AsMemory(0, frame.Length / 2));
                await Task.Delay(200); // let the half frame reach the chip before the link drops
            }
            await using (var second = await qemu.ConnectAsync(stub: true))
            {
                Assert.IsType<StubLoader>(second.Loader);
                Assert.True((await FlashWriter.WriteAsync(second, 0x30000, data)).Verified);
            }
            Assert.Equal(data, (await qemu.StopAndReadFlashAsync())[0x30000..0x34000]);
        });
    }

    [Fact]
    public async Task ReadFlashStreamsTheFlashWithItsMd5()
    {
        var flash = Random(0x30000, 8);
        await QemuChip.RunAsync(Chip, flash, async qemu =>
        {
            await using var session = await qemu.ConnectAsync(stub: true);
            Assert.Equal(flash[0x10100..0x22100], await FlashReader.ReadAsync(session, 0x10100, 0x12000));
        });
    }

    [Fact]
    public async Task VerifyWithDiffNamesExactlyTheChangedBytes()
    {
        var file = Random(20_000, 9);
        var flash = new byte[0x20000];
        Array.Fill(flash, (byte)0xFF);
        file.CopyTo(flash, 0x10000);
        flash[0x10000 + 7] ^= 0x10;
        flash[0x10000 + 19_999] ^= 0x01;
        await QemuChip.RunAsync(Chip, flash, async qemu =>
        {
            await using var session = await qemu.ConnectAsync(stub: true);
            var result = await FlashVerifier.VerifyAsync(session, 0x10000, file, diff: true);
            Assert.Equal([(0x10007u, 1), (0x10000u + 19_999, 1)], result.Differences.Select(d => (d.Address, d.Length)));
        });
    }

    [Fact]
    public async Task EraseRegionAndEraseFlash()
    {
        var flash = Random(0x40000, 10);
        await QemuChip.RunAsync(Chip, flash, async qemu =>
        {
            await using (var session = await qemu.ConnectAsync(stub: true))
            {
                await FlashEraser.EraseRegionAsync(session, 0x11000, 0x3000);
                Assert.Equal(FlashMd5.Of(Enumerable.Repeat((byte)0xFF, 0x3000).ToArray()), await FlashMd5.ComputeAsync(session, 0x11000, 0x3000));
                Assert.Equal(FlashMd5.Of(flash.AsSpan(0x14000, 0x1000)), await FlashMd5.ComputeAsync(session, 0x14000, 0x1000));
                await FlashEraser.EraseAllAsync(session);
                Assert.Equal(FlashMd5.Of(Enumerable.Repeat((byte)0xFF, 0x40000).ToArray()), await FlashMd5.ComputeAsync(session, 0, 0x40000));
            }
        });
    }

    [Fact]
    public async Task DumpMemMatchesTheRomLoadersWords()
    {
        await QemuChip.RunAsync(Chip, null, async qemu =>
        {
            byte[] viaRom;
            await using (var rom = await qemu.ConnectAsync(stub: false))
                viaRom = await MemoryAccess.DumpAsync(rom, 0x40000000, 2048);
            await using var stub = await qemu.ConnectAsync(stub: true);
            Assert.IsType<StubLoader>(stub.Loader);
            Assert.Equal(viaRom, await MemoryAccess.DumpAsync(stub, 0x40000000, 2048));
        });
    }

    [Fact]
    public async Task DeployRewritesOnlyTheChangedSector()
    {
        var image = Random(256 * 1024, 11);
        var flash = new byte[0x50000];
        Array.Fill(flash, (byte)0xFF);
        image.CopyTo(flash, 0x10000);
        flash[0x10000 + 0x3F000] ^= 0x01; // the last sector
        await QemuChip.RunAsync(Chip, flash, async qemu =>
        {
            await using (var session = await qemu.ConnectAsync(stub: true))
            {
                var result = await Deployer.DeployAsync(session, [new DeployImage("app", 0x10000, image)]);
                Assert.Equal([(0x4F000u, 4096)], result.Images[0].WrittenRanges);
                Assert.True(result.Images[0].Verified);
            }
            Assert.Equal(image, (await qemu.StopAndReadFlashAsync())[0x10000..0x50000]);
        });
    }
}
