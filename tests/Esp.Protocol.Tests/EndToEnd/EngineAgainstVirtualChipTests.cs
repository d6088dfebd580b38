using Esp.Protocol.Chips;
using Esp.Protocol.Errors;
using Esp.Protocol.Operations;
using Esp.Simulator;
using Esp.TestSupport;

namespace Esp.Protocol.Tests.EndToEnd;

/// <summary>
/// Every operation, end to end, on ESP8266, ESP32, ESP32-S3 and ESP32-C3 virtual chips in ROM and stub mode.
/// Each test checks the chip's own flash, memory or registers afterwards, not just the engine's return value.
/// </summary>
public class EngineAgainstVirtualChipTests
{
    public static TheoryData<string, bool> ChipsAndModes()
    {
        var data = new TheoryData<string, bool>();
        foreach (var chip in new[] { "esp8266", "esp32", "esp32s3", "esp32c3" })
            foreach (var stub in new[] { false, true })
                data.Add(chip, stub);
        return data;
    }

    public static TheoryData<string, bool> FlashCapable()
    {
        // The ESP8266 ROM has no MD5 and no flash read: flash work there needs the stub.
        var data = new TheoryData<string, bool>();
        foreach (var (c, s) in new[] { ("esp8266", true), ("esp32", false), ("esp32", true), ("esp32s3", false), ("esp32s3", true), ("esp32c3", false), ("esp32c3", true) })
            data.Add(c, s);
        return data;
    }

    private static byte[] Random(int length, int seed)
    {
        var b = new byte[length];
        new Random(seed).NextBytes(b);
        return b;
    }

    private static byte[] FirmwareLike(int length)
    {
        var b = new byte[length];
        var rng = new Random(3);
        for (int i = 0; i < length; i++) b[i] = (i % 64) < 40 ? (byte)(i / 64) : (byte)rng.Next(8);
        return b;
    }

    [Theory]
    [MemberData(nameof(ChipsAndModes))]
    public async Task ConnectDetectsChipAndMode(string chipKey, bool stub)
    {
        await using var c = await SimRig.OpenAsync(chipKey, stub);
        Assert.Equal(chipKey, c.Session.Chip.Key);
        Assert.Equal(stub, (c.Session.Loader is Esp.Protocol.Loader.StubLoader));
        Assert.Equal(stub ? ChipMode.Stub : ChipMode.RomLoader, c.Chip.Mode);
    }

    [Theory]
    [InlineData("esp32")]
    [InlineData("esp32c3")]
    [InlineData("esp8266")]
    public async Task AutoDetectionFindsTheChip(string chipKey)
    {
        var chip = new VirtualChip(new VirtualChipOptions { Chip = chipKey });
        await using var session = await Loader.EspSession.ConnectAsync(new Loader.ConnectOptions
        {
            Port = "sim", Transport = Esp.Simulator.Link.SimulatorPort.Connect(chip), Chip = "auto", Baud = 115200,
        });
        Assert.Equal(chipKey, session.Chip.Key);
        await chip.DisposeAsync();
    }

    [Fact]
    public async Task WrongChipIsNamed()
    {
        var chip = new VirtualChip(new VirtualChipOptions { Chip = "esp32c3" });
        var ex = await Assert.ThrowsAsync<EspException>(() => Loader.EspSession.ConnectAsync(new Loader.ConnectOptions
        {
            Port = "sim", Transport = Esp.Simulator.Link.SimulatorPort.Connect(chip), Chip = "esp32", Baud = 115200,
        }));
        Assert.Equal(EspErrorCode.ChipMismatch, ex.Code);
        Assert.Contains("ESP32-C3", ex.Message);
        await chip.DisposeAsync();
    }

    [Theory]
    [MemberData(nameof(FlashCapable))]
    public async Task WriteFlashLandsAndIsVerified(string chipKey, bool stub)
    {
        await using var c = await SimRig.OpenAsync(chipKey, stub);
        var random = Random(40_000, 1);
        var result = await FlashWriter.WriteAsync(c.Session, 0x20000, random);
        Assert.True(result.Verified);
        Assert.Equal(random, c.Chip.Flash.Read(0x20000, random.Length));

        var firmware = FirmwareLike(70_000);
        var r2 = await FlashWriter.WriteAsync(c.Session, 0x40000, firmware);
        Assert.Equal(firmware, c.Chip.Flash.Read(0x40000, firmware.Length));
        // The ESP32 ROM's inflate writes past the data (see the traces), so only other loaders get compressed data.
        if (stub || chipKey != "esp32")
            Assert.True(r2.WireBytes < firmware.Length / 2, $"compressible data should be compressed ({r2.WireBytes} bytes sent)");
        else
            Assert.False(r2.Compressed);
    }

    [Theory]
    [MemberData(nameof(FlashCapable))]
    public async Task UnalignedWriteKeepsTheBytesBeforeIt(string chipKey, bool stub)
    {
        await using var c = await SimRig.OpenAsync(chipKey, stub);
        var before = Random(0x1000, 5);
        c.Chip.Flash.Load(0x30000, before);
        var data = Random(100, 6);
        await FlashWriter.WriteAsync(c.Session, 0x30010, data);
        Assert.Equal(before.AsSpan(0, 0x10).ToArray(), c.Chip.Flash.Read(0x30000, 0x10));
        Assert.Equal(data, c.Chip.Flash.Read(0x30010, data.Length));
    }

    [Theory]
    [MemberData(nameof(FlashCapable))]
    public async Task ReadFlashReturnsTheChipsBytes(string chipKey, bool stub)
    {
        await using var c = await SimRig.OpenAsync(chipKey, stub);
        var data = Random(9000, 2);
        c.Chip.Flash.Load(0x11000, data);
        Assert.Equal(data, await FlashReader.ReadAsync(c.Session, 0x11000, data.Length));
    }

    [Theory]
    [MemberData(nameof(FlashCapable))]
    public async Task VerifyFindsTheDifferingRanges(string chipKey, bool stub)
    {
        await using var c = await SimRig.OpenAsync(chipKey, stub);
        var data = Random(8192, 3);
        c.Chip.Flash.Load(0x50000, data);
        var ok = await FlashVerifier.VerifyAsync(c.Session, 0x50000, data, diff: true);
        Assert.True(ok.Matched);

        var changed = (byte[])data.Clone();
        changed[100] ^= 0xFF;
        changed[5000] ^= 0x01;
        var bad = await FlashVerifier.VerifyAsync(c.Session, 0x50000, changed, diff: true);
        Assert.False(bad.Matched);
        Assert.Equal(2, bad.Differences.Count);
        Assert.Equal(0x50000u + 100, bad.Differences[0].Address);
        Assert.Equal(0x50000u + 5000, bad.Differences[1].Address);
        Assert.Equal(data[5000], bad.Differences[1].FlashBytes[0]);
    }

    [Theory]
    [MemberData(nameof(FlashCapable))]
    public async Task EraseRegionErases(string chipKey, bool stub)
    {
        await using var c = await SimRig.OpenAsync(chipKey, stub);
        c.Chip.Flash.Load(0x60000, Random(0x3000, 4));
        await FlashEraser.EraseRegionAsync(c.Session, 0x61000, 0x1000);
        Assert.All(c.Chip.Flash.Read(0x61000, 0x1000), b => Assert.Equal(0xFF, b));
        Assert.NotEqual(0xFF, c.Chip.Flash.Read(0x60000, 0x1000).Min());
        await Assert.ThrowsAsync<EspException>(() => FlashEraser.EraseRegionAsync(c.Session, 0x61001, 0x1000));
    }

    [Theory]
    [InlineData("esp32")]
    [InlineData("esp32c3")]
    public async Task EraseFlashNeedsTheStubAndErasesAll(string chipKey)
    {
        await using (var rom = await SimRig.OpenAsync(chipKey, false))
            Assert.Equal(EspErrorCode.UnsupportedCommand, (await Assert.ThrowsAsync<EspException>(() => FlashEraser.EraseAllAsync(rom.Session))).Code);
        await using var c = await SimRig.OpenAsync(chipKey, true);
        c.Chip.Flash.Load(0x3FF000, Random(0x1000, 9));
        await FlashEraser.EraseAllAsync(c.Session);
        Assert.All(c.Chip.Flash.Read(0x3FF000, 0x1000), b => Assert.Equal(0xFF, b));
    }

    [Theory]
    [MemberData(nameof(ChipsAndModes))]
    public async Task MemoryReadWriteDump(string chipKey, bool stub)
    {
        await using var c = await SimRig.OpenAsync(chipKey, stub);
        var ram = c.Session.Chip.MemoryMap.First(r => r.IsRam && !r.IsAlias && r.End - r.Start >= 0x4000 && r.Kind != MemoryKind.Rtc);
        uint address = ram.Start + 0x100;
        await MemoryAccess.WriteWordAsync(c.Session, address, 0xCAFEF00D);
        await MemoryAccess.WriteWordAsync(c.Session, address, 0x12345678, 0x0000FFFF);
        Assert.Equal(0xCAFE5678u, c.Chip.ReadRegister(address));
        Assert.Equal(0xCAFE5678u, await MemoryAccess.ReadWordAsync(c.Session, address));

        var expected = c.Chip.ReadMemory(address, 1024);
        Assert.Equal(expected, await MemoryAccess.DumpAsync(c.Session, address, 1024));
    }

    [Theory]
    [MemberData(nameof(ChipsAndModes))]
    public async Task LoadRamPlacesSegmentsAndJumps(string chipKey, bool stub)
    {
        await using var c = await SimRig.OpenAsync(chipKey, stub);
        var chip = c.Session.Chip;
        var stubLoc = chip.StubFor("2")!;
        var ram = chip.MemoryMap.First(r => r.IsRam && !r.IsAlias && r.End - r.Start >= 0x10000 && r.Kind != MemoryKind.Rtc
            && (r.End <= stubLoc.TextStart || r.Start >= stubLoc.DataEnd || r.Start > stubLoc.TextEnd));
        uint at = ram.Start + 0x2000;
        foreach (var (s, e) in new[] { (stubLoc.TextStart, stubLoc.TextEnd), (stubLoc.DataStart, stubLoc.DataEnd) })
            if (at < e && at + 0x2000 > s) at = (e + 0xFFF) & ~0xFFFu;
        var code = Random(7000, 11);
        await RamLoader.LoadAsync(c.Session, [new RamSegment(at, code)], at + 4);
        await WaitFor(() => c.Chip.LastEntryPoint == at + 4);
        Assert.Equal(ChipMode.RunningUserCode, c.Chip.Mode);
        Assert.Contains(c.Chip.LoadedSegments, s => s.Address == at && s.Data.AsSpan().SequenceEqual(code));
    }

    [Theory]
    [InlineData("esp32")]
    [InlineData("esp32c3")]
    public async Task LoadRamOverTheStubIsRefused(string chipKey)
    {
        await using var c = await SimRig.OpenAsync(chipKey, true);
        var stubText = c.Session.Stub!.TextStart;
        var ex = await Assert.ThrowsAsync<EspException>(() => RamLoader.LoadAsync(c.Session, [new RamSegment(stubText + 16, new byte[64])], stubText + 16));
        Assert.Equal(EspErrorCode.SegmentOverlapsStub, ex.Code);
        Assert.Equal(ChipMode.Stub, c.Chip.Mode);
    }

    [Theory]
    [MemberData(nameof(ChipsAndModes))]
    public async Task FlashStatusVolatileAndNonVolatile(string chipKey, bool stub)
    {
        await using var c = await SimRig.OpenAsync(chipKey, stub);
        Assert.Equal(0u, await FlashStatus.ReadAsync(c.Session, 2));
        var w = await FlashStatus.WriteAsync(c.Session, 0x0200, 2, nonVolatile: false); // QE, volatile
        Assert.True(w.Applied, $"after={w.After:X4}");
        Assert.Equal(0x02, c.Chip.Flash.VolatileStatus[1]);
        Assert.Equal(0x00, c.Chip.Flash.NonVolatileStatus[1]);

        var nv = await FlashStatus.WriteAsync(c.Session, 0x0200, 2, nonVolatile: true);
        Assert.True(nv.Applied);
        Assert.Equal(0x02, c.Chip.Flash.NonVolatileStatus[1]);
        Assert.False(c.Chip.Flash.WriteEnabled); // WRDI after the write
    }

    [Theory]
    [MemberData(nameof(ChipsAndModes))]
    public async Task SfdpAndFlashId(string chipKey, bool stub)
    {
        await using var c = await SimRig.OpenAsync(chipKey, stub, new VirtualChipOptions { FlashSize = 8 * 1024 * 1024 });
        var id = await FlashIdentity.ReadAsync(c.Session);
        Assert.Equal(c.Chip.Flash.JedecId, id.RawId);
        Assert.Equal(8 * 1024 * 1024, id.Size);
        var (bytes, info) = await Sfdp.ReadTableAsync(c.Session);
        Assert.Equal(c.Chip.Flash.Sfdp.AsSpan(0, bytes.Length).ToArray(), bytes);
        Assert.Equal(8L * 1024 * 1024, info.DensityBytes);
        // Longer than one SPI transaction: split and reassembled.
        var long100 = await Sfdp.ReadAsync(c.Session, 0, 100);
        Assert.Equal(c.Chip.Flash.Sfdp.AsSpan(0, 100).ToArray(), long100);
    }

    [Theory]
    [MemberData(nameof(ChipsAndModes))]
    public async Task ChipInfoReadsMacAndRevision(string chipKey, bool stub)
    {
        await using var c = await SimRig.OpenAsync(chipKey, stub, new VirtualChipOptions { Mac = "24:0a:c4:aa:bb:cc" });
        var info = await ChipInfo.ReadAsync(c.Session);
        if (chipKey == "esp8266")
            Assert.EndsWith("aa:bb:cc", info.Mac); // the ESP8266 derives its OUI from other eFuse bits
        else
            Assert.Equal("24:0a:c4:aa:bb:cc", info.Mac);
        Assert.Equal(chipKey, info.Chip);
        Assert.NotNull(info.Flash);
    }

    [Theory]
    [MemberData(nameof(FlashCapable))]
    public async Task DeployWritesOnlyWhatChanged(string chipKey, bool stub)
    {
        await using var c = await SimRig.OpenAsync(chipKey, stub);
        var image = Random(256 * 1024, 21);
        var first = await Deployer.DeployAsync(c.Session, [new DeployImage("app", 0x100000, image)]);
        Assert.Equal(image.Length, first.BytesWritten);
        Assert.Equal(image, c.Chip.Flash.Read(0x100000, image.Length));

        long md5Before = c.Chip.Statistics.Commands(0x13);
        long writesBefore = c.Chip.Statistics.Commands(0x03) + c.Chip.Statistics.Commands(0x11);
        var again = await Deployer.DeployAsync(c.Session, [new DeployImage("app", 0x100000, image)]);
        Assert.Equal(0, again.BytesWritten);
        Assert.Equal(1, c.Chip.Statistics.Commands(0x13) - md5Before); // one MD5 exchange…
        Assert.Equal(0, c.Chip.Statistics.Commands(0x03) + c.Chip.Statistics.Commands(0x11) - writesBefore); // …and no write
        Assert.Equal(DeployAction.Skip, again.Images[0].Action);
        Assert.True(again.Images[0].Verified);

        image[0x23456] ^= 0x55;
        var partial = await Deployer.DeployAsync(c.Session, [new DeployImage("app", 0x100000, image)]);
        Assert.Equal(0x1000, partial.BytesWritten);
        Assert.Equal([(0x123000u, 0x1000)], partial.Images[0].WrittenRanges);
        Assert.Equal(image, c.Chip.Flash.Read(0x100000, image.Length));
    }

    [Theory]
    [InlineData("esp32c3", 0x60008838u, 1u << 20, 3, "Secure Boot")]  // esptool: no stub on a C3 with Secure Boot
    [InlineData("esp32c2", 0u, 0u, 0, "revision v0.0")]               // esptool: the stub dropped the C2's ECO0
    public async Task ChipsTheStubRefusesStayWithTheRomLoader(string chipKey, uint efuse, uint value, int revision, string reason)
    {
        var words = efuse == 0 ? new Dictionary<uint, uint>() : new Dictionary<uint, uint> { [efuse] = value };
        await using var chip = new VirtualChip(new VirtualChipOptions { Chip = chipKey, EfuseWords = words, Revision = revision });
        var log = new List<string>();
        await using var session = await Loader.EspSession.ConnectAsync(new Loader.ConnectOptions
        {
            Port = "sim", Transport = Esp.Simulator.Link.SimulatorPort.Connect(chip), Chip = chipKey, Baud = 115200, Log = log.Add,
        });
        Assert.False((session.Loader is Esp.Protocol.Loader.StubLoader));
        Assert.Equal(ChipMode.RomLoader, chip.Mode);
        Assert.Contains(log, l => l.Contains(reason, StringComparison.Ordinal) && l.Contains("continuing with the ROM loader", StringComparison.Ordinal));
    }

    [Fact]
    public async Task OverTheChipsOwnUsbOtgPortDataGoesIn2KiBBlocks()
    {
        // esptool: an ESP32-S3 reached through its USB-OTG port (Espressif's VID, the chip id as PID) takes 0x800 blocks.
        await using var chip = new VirtualChip(new VirtualChipOptions { Chip = "esp32s3" });
        var blocks = new List<int>();
        await using var session = await Loader.EspSession.ConnectAsync(new Loader.ConnectOptions
        {
            Port = "sim", Transport = new UsbIdTransport(Esp.Simulator.Link.SimulatorPort.Connect(chip), (0x303A, 9)),
            Chip = "esp32s3", Baud = 115200,
            Trace = e => { if (e.FromHost && e.Packet.Length > 8 && e.Packet.Span[1] is 0x07 or 0x03) blocks.Add(e.Packet.Length - 24); },
        });
        Assert.True(session.UsesUsbOtg);
        var data = Random(0x3000, 23);
        Assert.True((await FlashWriter.WriteAsync(session, 0x10000, data, new FlashWriteOptions { Compress = false })).Verified);
        Assert.All(blocks, n => Assert.True(n <= 0x800, $"a {n}-byte block"));
        Assert.Contains(0x800, blocks);
        Assert.Equal(data, chip.Flash.Read(0x10000, data.Length));
    }

    /// <summary>A transport that reports a USB id (the virtual chip's port has none).</summary>
    private sealed class UsbIdTransport(Esp.Protocol.Transport.IEspTransport inner, (int Vid, int Pid) id) : Esp.Protocol.Transport.IEspTransport
    {
        public string Name => inner.Name;
        public int BaudRate => inner.BaudRate;
        public bool SupportsLineControl => inner.SupportsLineControl;
        public (int Vid, int Pid)? UsbId => id;
        public Task SetBaudRateAsync(int baud, CancellationToken cancellationToken = default) => inner.SetBaudRateAsync(baud, cancellationToken);
        public Task WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default) => inner.WriteAsync(data, cancellationToken);
        public Task<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => inner.ReadAsync(buffer, cancellationToken);
        public void DiscardInput() => inner.DiscardInput();
        public Task SetLinesAsync(bool? dtr, bool? rts, CancellationToken cancellationToken = default) => inner.SetLinesAsync(dtr, rts, cancellationToken);
        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task AFirstDeployToErasedFlashNeedsNoMd5PerSector(bool stub)
    {
        // Erased flash: the planner's block MD5s show it, so it takes the differing sectors from the image itself (its
        // own erased sectors need no write) instead of asking the chip for every sector's MD5.
        await using var c = await SimRig.OpenAsync("esp32c3", stub);
        var image = Random(256 * 1024, 22);
        Array.Fill(image, (byte)0xFF, 0x21000, 0x2000); // two erased sectors inside the image
        long md5Before = c.Chip.Statistics.Commands(0x13);
        var result = await Deployer.DeployAsync(c.Session, [new DeployImage("app", 0x100000, image)]);
        // Planning: the image and its four 64 KiB blocks; then each written range's check and the image's after writing.
        Assert.Equal(1 + 4 + 2 + 1, c.Chip.Statistics.Commands(0x13) - md5Before);
        Assert.Equal([(0x100000u, 0x21000), (0x123000u, 0x1D000)], result.Images[0].WrittenRanges);
        Assert.True(result.Images[0].Verified);
        Assert.Equal(image, c.Chip.Flash.Read(0x100000, image.Length));
    }

    [Fact]
    public async Task RomWriteIntoProtectedBlocksIsNotReportedAsDone()
    {
        // BP bits protect the flash and the ROM does not unlock it: the chip skips the write, the MD5 tells.
        await using var c = await SimRig.OpenAsync("esp32", false, new VirtualChipOptions { FlashStatus = [0x1C, 0, 0] });
        var ex = await Assert.ThrowsAnyAsync<EspException>(() => FlashWriter.WriteAsync(c.Session, 0x3F0000, Random(4096, 1)));
        Assert.True(ex.Code is EspErrorCode.WriteVerifyFailed or EspErrorCode.RomError, ex.ToString());
        Assert.All(c.Chip.Flash.Read(0x3F0000, 4096), b => Assert.Equal(0xFF, b));
    }

    [Fact]
    public async Task StubWriteIntoLockedProtectionNamesTheStatusRegister()
    {
        // The stub clears BP bits before writing, unless the status register is locked (SRP0 with WP# low).
        await using var c = await SimRig.OpenAsync("esp32", true,
            new VirtualChipOptions { FlashStatus = [0x9C, 0, 0], FlashWriteProtectPinLow = true });
        var ex = await Assert.ThrowsAnyAsync<EspException>(() => FlashWriter.WriteAsync(c.Session, 0x3F0000, Random(4096, 1), new FlashWriteOptions { Compress = false }));
        Assert.Equal(EspErrorCode.FlashWriteProtected, ex.Code);
        Assert.Contains("status register", ex.Help);
    }

    [Fact]
    public async Task StubUnlocksUnlockedProtectionLikeTheRealStub()
    {
        await using var c = await SimRig.OpenAsync("esp32", true, new VirtualChipOptions { FlashStatus = [0x1C, 0, 0] });
        var data = Random(4096, 1);
        await FlashWriter.WriteAsync(c.Session, 0x3F0000, data);
        Assert.Equal(data, c.Chip.Flash.Read(0x3F0000, 4096));
    }

    [Fact]
    public async Task EncryptedFlashRefusesPlainWrites()
    {
        await using var c = await SimRig.OpenAsync("esp32c3", false, new VirtualChipOptions { FlashCryptCnt = 1 });
        var ex = await Assert.ThrowsAsync<EspException>(() => FlashWriter.WriteAsync(c.Session, 0x10000, new byte[16]));
        Assert.Equal(EspErrorCode.FlashEncrypted, ex.Code);
        Assert.All(c.Chip.Flash.Read(0x10000, 16), b => Assert.Equal(0xFF, b));
    }

    [Fact]
    public async Task SilentChipGivesNoSyncError()
    {
        var chip = new VirtualChip(new VirtualChipOptions { Chip = "esp32", StartInDownloadMode = false });
        var ex = await Assert.ThrowsAsync<EspException>(() => Loader.EspSession.ConnectAsync(new Loader.ConnectOptions
        {
            Port = "sim", Transport = Esp.Simulator.Link.SimulatorPort.Connect(chip), Chip = "esp32", Baud = 115200,
            Before = "no-reset", ConnectAttempts = 2,
        }));
        Assert.True(ex.Code is EspErrorCode.NoSyncReply or EspErrorCode.WrongBootMode, ex.ToString());
        await chip.DisposeAsync();
    }

    [Fact]
    public async Task ResetThroughLinesEntersDownloadMode()
    {
        // The chip is running its app; esptool's reset sequence over DTR/RTS puts it in the bootloader.
        var chip = new VirtualChip(new VirtualChipOptions { Chip = "esp32", StartInDownloadMode = false });
        await using var session = await Loader.EspSession.ConnectAsync(new Loader.ConnectOptions
        {
            Port = "sim", Transport = Esp.Simulator.Link.SimulatorPort.Connect(chip), Chip = "esp32", Baud = 115200, Before = "default-reset",
        });
        // Reached the ROM loader, which then started the shipped flasher stub (the default).
        Assert.Equal(ChipMode.Stub, chip.Mode);
        Assert.True((session.Loader is Esp.Protocol.Loader.StubLoader));
        await chip.DisposeAsync();
    }

    [Theory]
    [InlineData("esp32", false)]
    [InlineData("esp32c3", true)]
    public async Task BaudChangeKeepsTheLinkWorking(string chipKey, bool stub)
    {
        var chip = new VirtualChip(new VirtualChipOptions { Chip = chipKey });
        await using var session = await Loader.EspSession.ConnectAsync(new Loader.ConnectOptions
        {
            Port = "sim", Transport = Esp.Simulator.Link.SimulatorPort.Connect(chip), Chip = chipKey, Baud = 921600,
            NoStub = !stub,
        });
        Assert.Equal(921600, session.Transport.BaudRate);
        Assert.Equal(921600, chip.ChipBaud);
        var data = Random(5000, 8);
        await FlashWriter.WriteAsync(session, 0x10000, data);
        Assert.Equal(data, chip.Flash.Read(0x10000, data.Length));
        await chip.DisposeAsync();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ABaudChangeTheChipDidNotTakeFallsBackToTheOldRate(bool stub)
    {
        await using var chip = new VirtualChip(new VirtualChipOptions { Chip = "esp32c3", BaudChange = BaudChangeBehaviour.Ignore });
        var log = new List<string>();
        await using var session = await Loader.EspSession.ConnectAsync(new Loader.ConnectOptions
        {
            Port = "sim", Transport = Esp.Simulator.Link.SimulatorPort.Connect(chip), Chip = "esp32c3", Baud = 921600,
            NoStub = !stub, Log = log.Add,
        });
        Assert.Equal(115200, session.Transport.BaudRate);
        Assert.Contains(log, l => l.Contains("did not take 921600 Bd; continuing at 115200 Bd", StringComparison.Ordinal));
        var data = Random(3000, 9);
        Assert.True((await FlashWriter.WriteAsync(session, 0x10000, data)).Verified);
    }

    [Fact]
    public async Task AChipSilentAfterTheBaudChangeIsACodedErrorThatNamesTheRate()
    {
        await using var chip = new VirtualChip(new VirtualChipOptions { Chip = "esp32", BaudChange = BaudChangeBehaviour.Silent });
        var ex = await Assert.ThrowsAsync<EspException>(() => Loader.EspSession.ConnectAsync(new Loader.ConnectOptions
        {
            Port = "sim", Transport = Esp.Simulator.Link.SimulatorPort.Connect(chip), Chip = "esp32", Baud = 460800, NoStub = true,
        }));
        Assert.Equal(EspErrorCode.BaudChangeFailed, ex.Code);
        Assert.Contains("460800 Bd", ex.Message);
        Assert.DoesNotContain("timeout", ex.Message + ex.Help, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("-b 115200", ex.Help);
    }

    private static async Task WaitFor(Func<bool> condition)
    {
        for (int i = 0; i < 200 && !condition(); i++) await Task.Delay(10);
        Assert.True(condition());
    }
}
