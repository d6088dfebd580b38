using Esp.Fidelity.Tests.Emulator;
using Esp.Protocol.Operations;

namespace Esp.Fidelity.Tests;

/// <summary>The engine against the real ESP32 and ESP32-C3 ROM loaders (no stub).</summary>
public class RomLoaderTests
{
    private static byte[] Random(int n, int seed) { var b = new byte[n]; new Random(seed).NextBytes(b); return b; }

    [Theory]
    [InlineData("esp32", "ESP32")]
    [InlineData("esp32c3", "ESP32-C3")]
    public async Task ConnectDetectsTheChipAndReadsItsMac(string chip, string name)
    {
        await QemuChip.RunAsync(chip, null, async qemu =>
        {
            await using var session = await qemu.ConnectAsync(stub: false);
            Assert.False((session.Loader is Esp.Protocol.Loader.StubLoader));
            Assert.Equal(name, session.Chip.Name);
            var info = await ChipInfo.ReadAsync(session);
            Assert.Equal(qemu.Mac, info.Mac);
        });
    }

    [Theory]
    [InlineData("esp32")]
    [InlineData("esp32c3")]
    public async Task FlashIdIsTheEmulatedGigaDevice(string chip)
    {
        await QemuChip.RunAsync(chip, null, async qemu =>
        {
            await using var session = await qemu.ConnectAsync(stub: false);
            await session.EnsureFlashAttachedAsync(default);
            Assert.Equal(0x1640C8u, session.FlashId); // c8 40 16: GigaDevice GD25Q32
            Assert.Equal(QemuChip.FlashSize, session.FlashSize);
        });
    }

    [Theory]
    [InlineData("esp32", 0x3FFB2000u)]
    [InlineData("esp32c3", 0x3FCB0000u)]
    public async Task WriteMemHonoursTheMaskAndReadMemReadsItBack(string chip, uint address)
    {
        await QemuChip.RunAsync(chip, null, async qemu =>
        {
            await using var session = await qemu.ConnectAsync(stub: false);
            await MemoryAccess.WriteWordAsync(session, address, 0xCAFEF00D);
            await MemoryAccess.WriteWordAsync(session, address, 0x12345678, mask: 0x0000FFFF);
            Assert.Equal(0xCAFE5678u, await MemoryAccess.ReadWordAsync(session, address));
        });
    }

    [Theory]
    [InlineData("esp32")]
    [InlineData("esp32c3")]
    public async Task DumpMemGivesTheSameWordsAsOneReadRegAtATime(string chip)
    {
        await QemuChip.RunAsync(chip, null, async qemu =>
        {
            await using var session = await qemu.ConnectAsync(stub: false);
            const uint rom = 0x40000000;
            var dump = await MemoryAccess.DumpAsync(session, rom, 1024);
            for (int i = 0; i < 256; i++)
                Assert.Equal(await session.ReadRegAsync(rom + (uint)(4 * i)), BitConverter.ToUInt32(dump, 4 * i));
        });
    }

    [Theory]
    [InlineData("esp32")]
    [InlineData("esp32c3")]
    public async Task FlashStatusAndSfdpOfAnyLength(string chip)
    {
        // The emulated flash keeps no status bits and has no SFDP table (both read as zeros): what is checked here is
        // that the SPI command sequences complete on the real ROM, for 1-3 status bytes and SFDP lengths across words.
        await QemuChip.RunAsync(chip, null, async qemu =>
        {
            await using var session = await qemu.ConnectAsync(stub: false);
            for (int bytes = 1; bytes <= 3; bytes++)
                Assert.Equal(0u, await FlashStatus.ReadAsync(session, bytes));
            var write = await FlashStatus.WriteAsync(session, 0, bytes: 2);
            Assert.Equal(0u, write.After);
            foreach (int length in new[] { 1, 4, 7, 64, 100 })
                Assert.Equal(new byte[length], await Sfdp.ReadAsync(session, 0, length));
        });
    }

    [Theory]
    [InlineData("esp32")]
    [InlineData("esp32c3")]
    public async Task PlainWriteLandsAndReadsBack(string chip)
    {
        var data = Random(9000, 1);
        await QemuChip.RunAsync(chip, null, async qemu =>
        {
            await using (var session = await qemu.ConnectAsync(stub: false))
            {
                var result = await FlashWriter.WriteAsync(session, 0x10000, data, new FlashWriteOptions { Compress = false });
                Assert.True(result.Verified);
                Assert.False(result.Compressed);
                Assert.Equal(data, await FlashReader.ReadAsync(session, 0x10000, data.Length));
            }
            var flash = await qemu.StopAndReadFlashAsync();
            Assert.Equal(data, flash[0x10000..(0x10000 + data.Length)]);
            Assert.All(flash[(0x10000 + data.Length)..0x13000], b => Assert.Equal(0xFF, b)); // the rest of the last sector
        });
    }

    // A write that starts inside a sector keeps the bytes before it: the ROM reads them (READ_FLASH_SLOW), hashes the
    // same unaligned range (SPI_FLASH_MD5) to prove they arrived undamaged, and they are written back with the image.
    [Theory]
    [InlineData("esp32")]
    [InlineData("esp32c3")]
    public async Task AWriteInsideASectorKeepsTheBytesBeforeIt(string chip)
    {
        var old = Random(0x1000, 2);
        var flash = new byte[0x21000];
        Array.Fill(flash, (byte)0xFF);
        old.CopyTo(flash, 0x20000);
        var data = Random(3000, 3);
        await QemuChip.RunAsync(chip, flash, async qemu =>
        {
            await using (var session = await qemu.ConnectAsync(stub: false))
            {
                Assert.True((await FlashWriter.WriteAsync(session, 0x20458, data, new FlashWriteOptions { Compress = false })).Verified);
            }
            var after = await qemu.StopAndReadFlashAsync();
            Assert.Equal(old[..0x458], after[0x20000..0x20458]);
            Assert.Equal(data, after[0x20458..(0x20458 + data.Length)]);
        });
    }

    [Fact]
    public async Task CompressedWriteLandsOnTheEsp32C3Rom()
    {
        // Firmware-like data compresses; the C3 ROM inflates it (the ESP32 ROM is never sent compressed data: it
        // writes its whole 32 KiB inflate buffer out, see FlashWriter).
        var data = new byte[24 * 1024];
        var rng = new Random(2);
        for (int i = 0; i < data.Length; i++) data[i] = (byte)(i % 64 < 40 ? i / 64 : rng.Next(256));
        await QemuChip.RunAsync("esp32c3", null, async qemu =>
        {
            await using (var session = await qemu.ConnectAsync(stub: false))
            {
                var result = await FlashWriter.WriteAsync(session, 0x20000, data);
                Assert.True(result.Compressed);
                Assert.True(result.Verified);
            }
            var flash = await qemu.StopAndReadFlashAsync();
            Assert.Equal(data, flash[0x20000..(0x20000 + data.Length)]);
            Assert.All(flash[(0x20000 + data.Length)..0x28000], b => Assert.Equal(0xFF, b));
        });
    }

    [Theory]
    [InlineData("esp32")]
    [InlineData("esp32c3")]
    public async Task VerifyWithDiffNamesExactlyTheChangedBytes(string chip)
    {
        var file = Random(6000, 3);
        var flash = new byte[0x20000];
        Array.Fill(flash, (byte)0xFF);
        file.CopyTo(flash, 0x10000);
        flash[0x10000 + 100] ^= 0x01;
        flash[0x10000 + 101] ^= 0x80;
        flash[0x10000 + 5000] ^= 0xFF;
        await QemuChip.RunAsync(chip, flash, async qemu =>
        {
            await using var session = await qemu.ConnectAsync(stub: false);
            var result = await FlashVerifier.VerifyAsync(session, 0x10000, file, diff: true);
            Assert.False(result.Matched);
            Assert.Equal([(0x10000u + 100, 2), (0x10000u + 5000, 1)], result.Differences.Select(d => (d.Address, d.Length)));
            Assert.Equal(3, result.DifferentBytes);
            Assert.True((await FlashVerifier.VerifyAsync(session, 0x10000, file.AsMemory(0, 100), diff: true)).Matched);
        });
    }

    [Theory]
    [InlineData("esp32")]
    [InlineData("esp32c3")]
    public async Task EraseRegionErasesWholeSectorsOnly(string chip)
    {
        var flash = Random(0x40000, 4);
        await QemuChip.RunAsync(chip, flash, async qemu =>
        {
            await using (var session = await qemu.ConnectAsync(stub: false))
                await FlashEraser.EraseRegionAsync(session, 0x21000, 0x2000);
            var after = await qemu.StopAndReadFlashAsync();
            Assert.All(after[0x21000..0x23000], b => Assert.Equal(0xFF, b));
            Assert.Equal(flash[0x20000..0x21000], after[0x20000..0x21000]);
            Assert.Equal(flash[0x23000..0x24000], after[0x23000..0x24000]);
        });
    }

    [Theory]
    [InlineData("esp32")]
    [InlineData("esp32c3")]
    public async Task DeployRewritesOnlyTheChangedSectorOfA256KiBImage(string chip)
    {
        // The image is already in flash but for one sector: planning by on-chip MD5 finds that sector alone.
        var image = Random(256 * 1024, 5);
        var flash = new byte[0x50000];
        Array.Fill(flash, (byte)0xFF);
        image.CopyTo(flash, 0x10000);
        flash[0x10000 + 0x9000 + 123] ^= 0x5A;
        await QemuChip.RunAsync(chip, flash, async qemu =>
        {
            await using (var session = await qemu.ConnectAsync(stub: false))
            {
                var result = await Deployer.DeployAsync(session, [new DeployImage("app", 0x10000, image)]);
                var written = Assert.Single(result.Images);
                Assert.True(written.Verified);
                Assert.Equal(4096, written.BytesWritten);
                Assert.Equal([(0x19000u, 4096)], written.WrittenRanges);
            }
            var after = await qemu.StopAndReadFlashAsync();
            Assert.Equal(image, after[0x10000..(0x10000 + image.Length)]);
        });
    }

    [Theory]
    [InlineData("esp32")]
    [InlineData("esp32c3")]
    public async Task LoadRamRunsAProgramThatPrintsOverTheUart(string chip)
    {
        var (segment, entry) = TinyPrograms.Printer(chip, "FIDELITY OK\r\n");
        await QemuChip.RunAsync(chip, null, async qemu =>
        {
            await using var session = await qemu.ConnectAsync(stub: false);
            await RamLoader.LoadAsync(session, [segment], entry);
            var text = System.Text.Encoding.ASCII.GetString(await QemuChip.ReadForAsync(new TransportStream(session.Transport), TimeSpan.FromSeconds(2)));
            Assert.Contains("FIDELITY OK\r\nFIDELITY OK\r\n", text);
        });
    }

    [Fact]
    public async Task BaudChangeOnTheEsp32C3RomCarriesAWriteAndARead()
    {
        var data = Random(12_000, 13);
        await QemuChip.RunAsync("esp32c3", null, async qemu =>
        {
            await using var session = await qemu.ConnectAsync(stub: false, baud: 460800);
            Assert.Equal(460800, session.Transport.BaudRate);
            Assert.True((await FlashWriter.WriteAsync(session, 0x10000, data, new FlashWriteOptions { Compress = false })).Verified);
            Assert.Equal(data, await FlashReader.ReadAsync(session, 0x10000, data.Length));
        });
    }

    [Fact]
    public async Task AChipSilentAfterTheBaudChangeIsReportedWithTheRateToUse()
    {
        // QEMU's ESP32 stops after CHANGE_BAUDRATE (its UART model); the engine finds the chip silent at both rates.
        await QemuChip.RunAsync("esp32", null, async qemu =>
        {
            var ex = await Assert.ThrowsAsync<Protocol.Errors.EspException>(() => qemu.ConnectAsync(stub: false, baud: 460800));
            Assert.Equal(Protocol.Errors.EspErrorCode.BaudChangeFailed, ex.Code);
            Assert.Contains("460800 Bd", ex.Message);
            Assert.DoesNotContain("timeout", ex.Message + ex.Help, StringComparison.OrdinalIgnoreCase);
            Assert.Contains("-b 115200", ex.Help);
        });
    }
}
