using Esp.Protocol.Chips;
using Esp.Protocol.Errors;
using Esp.Protocol.Loader;
using Esp.Protocol.Operations;

namespace Esp.Protocol.Tests.Replay;

/// <summary>
/// The engine must send exactly what esptool sent to the real ROMs and stubs (tests/Traces), and make sense
/// of exactly what they answered.
/// </summary>
public class GoldenTraceTests
{
    private static ChipDefinition ChipOf(string dir) => dir.StartsWith("esp32c3") ? ChipDatabase.Esp32C3 : ChipDatabase.Esp32;

    /// <summary>Index of the first host packet of the SPI transaction that sends <paramref name="opcode"/>.</summary>
    private static int TransactionStart(IReadOnlyList<TraceEntry> trace, byte opcode, bool last = false)
    {
        var writes = trace.Select((e, i) => (e, i))
            .Where(x => x.e.FromHost && x.e.Note.Contains($"(SPI_USER2) = 0x700000{opcode:x2}", StringComparison.Ordinal))
            .Select(x => x.i).ToList();
        int i = last ? writes[^1] : writes[0];
        while (!(trace[i].FromHost && trace[i].Note.StartsWith("READ_REG", StringComparison.Ordinal) && trace[i].Note.EndsWith("(SPI_USER)", StringComparison.Ordinal)))
            i--;
        return i;
    }

    private static (EspSession Session, ReplayTransport Replay) Replay(string dir, IReadOnlyList<TraceEntry> trace, int start, bool stub = false,
        Func<TraceEntry, byte[]>? expand = null)
    {
        var replay = new ReplayTransport(trace, start, expandChipPacket: expand);
        var session = EspSession.Attach(replay, ChipOf(dir), stub, flashAttached: true);
        return (session, replay);
    }

    private static void AssertNoMismatch(ReplayTransport replay) => Assert.True(replay.Mismatches.Count == 0, string.Join("\n", replay.Mismatches));

    [Theory]
    [InlineData("esp32-rom")]
    [InlineData("esp32c3-rom")]
    public async Task FlashIdSendsTheRdidRegisterSequence(string dir)
    {
        var trace = Trace.Load($"{dir}/flash_id.jsonl");
        var (session, replay) = Replay(dir, trace, TransactionStart(trace, 0x9F));
        uint id = await SpiFlash.RunCommandAsync(session, 0x9F, readBits: 24);
        AssertNoMismatch(replay);
        Assert.Equal(0x1640C8u, id);
        Assert.Equal(4 * 1024 * 1024, FlashIdentity.SizeFromId(id));
    }

    [Theory]
    [InlineData("esp32-rom", 1)]
    [InlineData("esp32-rom", 2)]
    [InlineData("esp32-rom", 3)]
    [InlineData("esp32c3-rom", 1)]
    [InlineData("esp32c3-rom", 2)]
    [InlineData("esp32c3-rom", 3)]
    public async Task ReadFlashStatusSendsRdsrSequence(string dir, int bytes)
    {
        var trace = Trace.Load($"{dir}/read_flash_status-{bytes}.jsonl");
        var (session, replay) = Replay(dir, trace, TransactionStart(trace, 0x05));
        uint status = await FlashStatus.ReadAsync(session, bytes);
        AssertNoMismatch(replay);
        Assert.Equal(0u, status); // QEMU's flash reports zero status
        // Each RDSR: save USR/USR2, MISO_DLEN, USR, USR2, W0, CMD, one poll, W0, restore USR/USR2.
        Assert.Equal(bytes * 11, replay.HostPackets.Count);
    }

    [Theory]
    [InlineData("esp32-rom", false)]
    [InlineData("esp32-rom", true)]
    [InlineData("esp32c3-rom", false)]
    [InlineData("esp32c3-rom", true)]
    public async Task WriteFlashStatusSendsEnableWriteDisableAndReadBack(string dir, bool nonVolatile)
    {
        var trace = Trace.Load($"{dir}/write_flash_status-2{(nonVolatile ? "-nv" : "")}.jsonl");
        var (session, replay) = Replay(dir, trace, TransactionStart(trace, 0x05));
        var result = await FlashStatus.WriteAsync(session, 0, 2, nonVolatile);
        AssertNoMismatch(replay);
        Assert.Equal(0u, result.After);
        Assert.True(result.Applied);
        // Nothing the engine skipped: the trace's remaining host packets are esptool's session end, not SPI work.
        Assert.DoesNotContain(trace.Skip(replay.Position), e => e.FromHost && e.Note.Contains("(SPI_CMD)", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("esp32-rom")]
    [InlineData("esp32c3-rom")]
    public async Task ReadSfdpSendsRdsfdpWithAddressAndDummyCycles(string dir)
    {
        var trace = Trace.Load($"{dir}/read_flash_sfdp-0-4.jsonl");
        // esptool probes SFDP at 0x10 first (XMC check); the user's read at 0 is the last 5Ah transaction.
        int start = TransactionStart(trace, 0x5A, last: true);
        var (session, replay) = Replay(dir, trace, start);
        var bytes = await Sfdp.ReadAsync(session, 0, 4);
        AssertNoMismatch(replay);
        Assert.Equal(new byte[4], bytes); // QEMU has no SFDP table
    }

    [Theory]
    [InlineData("esp32-rom")]
    [InlineData("esp32c3-rom")]
    public async Task WriteFlashUncompressedMatchesEsptool(string dir)
    {
        var trace = Trace.Load($"{dir}/write_flash-u.jsonl");
        var (session, replay) = Replay(dir, trace, Trace.Find(trace, "FLASH_BEGIN"));
        var result = await FlashWriter.WriteAsync(session, 0x10000, Trace.Pattern2k(), new FlashWriteOptions { Compress = false });
        AssertNoMismatch(replay);
        Assert.True(result.Verified);
        Assert.Equal("e543ff42598ccd5f4c9396f000f14657", result.Md5);
        Assert.Equal(4, replay.HostPackets.Count); // FLASH_BEGIN, 2 × FLASH_DATA, SPI_FLASH_MD5
    }

    [Theory]
    [InlineData("esp32-rom")]
    [InlineData("esp32c3-rom")]
    public async Task VerifyFlashIsOneMd5Exchange(string dir)
    {
        var trace = Trace.Load($"{dir}/verify_flash.jsonl");
        var (session, replay) = Replay(dir, trace, Trace.Find(trace, "SPI_FLASH_MD5"));
        var result = await FlashVerifier.VerifyAsync(session, 0x10000, Trace.Pattern2k(), diff: true);
        AssertNoMismatch(replay);
        Assert.True(result.Matched);
        Assert.Single(replay.HostPackets);
    }

    [Theory]
    [InlineData("esp32-rom")]
    [InlineData("esp32c3-rom")]
    public async Task RomReadFlashUsesSixtyFourByteSlowReads(string dir)
    {
        var trace = Trace.Load($"{dir}/read_flash.jsonl");
        var (session, replay) = Replay(dir, trace, Trace.Find(trace, "READ_FLASH_SLOW"));
        var data = await FlashReader.ReadAsync(session, 0x10000, 0x400);
        AssertNoMismatch(replay);
        Assert.Equal(16, replay.HostPackets.Count);
        Assert.Equal(Trace.Pattern2k().AsSpan(0, 0x400).ToArray(), data); // written by the earlier write_flash session
    }

    [Theory]
    [InlineData("esp32-rom")]
    [InlineData("esp32c3-rom")]
    public async Task LoadRamSendsMemBeginDataEnd(string dir)
    {
        var trace = Trace.Load($"{dir}/load_ram.jsonl");
        int begin = Trace.Find(trace, "MEM_BEGIN");
        int data = Trace.Find(trace, "MEM_DATA", begin);
        int end = Trace.Find(trace, "MEM_END", data);
        var packet = trace[data].Packet!;
        var words = Enumerable.Range(0, 4).Select(i => BitConverter.ToUInt32(trace[begin].Packet!, 8 + 4 * i)).ToArray();
        uint entry = BitConverter.ToUInt32(trace[end].Packet!, 12);
        var segment = new RamSegment(words[3], packet[24..]);
        var (session, replay) = Replay(dir, trace, begin);
        session = EspSession.Attach(replay, ChipOf(dir), false);
        await RamLoader.LoadAsync(session, [segment], entry);
        AssertNoMismatch(replay);
        Assert.Equal(3, replay.HostPackets.Count);
        Assert.Equal(0u, BitConverter.ToUInt32(replay.HostPackets[2], 8)); // flag 0: jump
    }

    [Theory]
    [InlineData("esp32-rom", 0x3FFB2000u)]
    [InlineData("esp32c3-rom", 0x3FCB0000u)]
    public async Task WriteMemWithMaskAndReadBack(string dir, uint address)
    {
        var trace = Trace.Load($"{dir}/write_mem-2-mask.jsonl");
        int start = trace.Select((e, i) => (e, i)).Last(x => x.e.FromHost && x.e.Note.StartsWith($"WRITE_REG 0x{address:x8}", StringComparison.Ordinal)).i;
        var (session, replay) = Replay(dir, trace, start);
        await MemoryAccess.WriteWordAsync(session, address, 0x12345678, 0x0000FFFF);
        AssertNoMismatch(replay);

        var readTrace = Trace.Load($"{dir}/write_mem-3-readback.jsonl");
        int read = readTrace.Select((e, i) => (e, i)).Last(x => x.e.FromHost && x.e.Note.StartsWith($"READ_REG 0x{address:x8}", StringComparison.Ordinal)).i;
        var (s2, r2) = Replay(dir, readTrace, read);
        Assert.Equal(0xCAFE5678u, await MemoryAccess.ReadWordAsync(s2, address));
        AssertNoMismatch(r2);
    }

    [Theory]
    [InlineData("esp32-stub")]
    [InlineData("esp32c3-stub")]
    public async Task StubReadFlashStreamsWithAcksAndChecksMd5(string dir)
    {
        var trace = Trace.Load($"{dir}/3-read_flash-8k.jsonl");
        var expected = new byte[0x2000];
        expected.AsSpan().Fill(0xFF);
        Trace.Pattern2k().CopyTo(expected, 0);
        int packetNo = 0;
        byte[] Expand(TraceEntry e) => expected.AsSpan(0x1000 * packetNo++, e.TruncatedFrom!.Value).ToArray();
        var (session, replay) = Replay(dir, trace, Trace.Find(trace, "READ_FLASH"), stub: true, expand: Expand);
        var data = await FlashReader.ReadAsync(session, 0x10000, 0x2000);
        AssertNoMismatch(replay);
        Assert.Equal(expected, data);
        Assert.Equal(3, replay.HostPackets.Count); // the command and two acknowledgements
    }

    [Theory]
    [InlineData("esp32-stub")]
    [InlineData("esp32c3-stub")]
    public async Task StubVerifyUsesRawMd5(string dir)
    {
        var trace = Trace.Load($"{dir}/2-verify_flash.jsonl");
        var (session, replay) = Replay(dir, trace, Trace.Find(trace, "SPI_FLASH_MD5"), stub: true);
        var result = await FlashVerifier.VerifyAsync(session, 0x10000, Trace.Pattern2k(), diff: false);
        AssertNoMismatch(replay);
        Assert.True(result.Matched);
    }

    [Theory]
    [InlineData("esp32-stub")]
    [InlineData("esp32c3-stub")]
    public async Task StubEraseRegion(string dir)
    {
        var trace = Trace.Load($"{dir}/4-erase_region.jsonl");
        var (session, replay) = Replay(dir, trace, Trace.Find(trace, "ERASE_REGION"), stub: true);
        await FlashEraser.EraseRegionAsync(session, 0x20000, 0x1000);
        AssertNoMismatch(replay);
        Assert.Single(replay.HostPackets);
    }

    [Fact]
    public async Task C3RomChangeBaudrateSendsZeroOldBaudThenChecksTheLink()
    {
        // After the switch the engine checks the link with the READ_REG it detected the chip with (esptool goes straight
        // on); the ROM's answer to that request is earlier in the same session, so the replay serves it from there.
        var recorded = Trace.Load("esp32c3-rom/change_baudrate.jsonl");
        int detect = Trace.Find(recorded, "READ_REG 0x40001000");
        int change = Trace.Find(recorded, "CHANGE_BAUDRATE");
        int after = change + 1;
        while (recorded[after].FromHost || !recorded[after].IsFrame || recorded[after].Packet!.Length > 0) after++; // the ROM's empty frame
        var trace = recorded.Take(after + 1).Concat([recorded[detect], recorded[detect + 1]]).Concat(recorded.Skip(after + 1)).ToList();
        var (session, replay) = Replay("esp32c3-rom", trace, change);
        await session.ChangeBaudAsync(921600, default);
        AssertNoMismatch(replay);
        Assert.Equal(921600, replay.BaudRate);
        Assert.Equal(2, replay.HostPackets.Count);
    }

    [Fact]
    public async Task Esp32RomChangeBaudrateCompensatesTheClockAndReportsTheSilentChip()
    {
        // esptool reads RTCCALICFG1 and the CK8M eFuse first; with QEMU's values the result is exactly 921600. After the
        // reply QEMU's ESP32 goes silent (an emulator limitation): at the new rate and back at the old one.
        var trace = Trace.Load("esp32-rom/change_baudrate.jsonl");
        int start = Trace.Find(trace, "CHANGE_BAUDRATE");
        while (!trace[start].Note.StartsWith("READ_REG 0x3ff5f06c", StringComparison.Ordinal)) start--;
        var (session, replay) = Replay("esp32-rom", trace, start);
        var ex = await Assert.ThrowsAsync<EspException>(() => session.ChangeBaudAsync(921600, default));
        Assert.Equal(EspErrorCode.BaudChangeFailed, ex.Code);
        Assert.Contains("-b 115200", ex.Help);
        Assert.Equal(115200, replay.BaudRate);
        // Everything up to the CHANGE_BAUDRATE is esptool's sequence; the only packets that differ from the recording
        // are the engine's link checks (READ_REG 0x40001000), which go unanswered, twice at each rate.
        Assert.Equal(4, replay.Mismatches.Count);
        Assert.All(replay.Mismatches, m => Assert.EndsWith("000a04000000000000100040", m));
    }
}
