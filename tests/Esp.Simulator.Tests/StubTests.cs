using System.IO.Compression;
using System.Security.Cryptography;

namespace Esp.Simulator.Tests;

public class StubTests
{
    /// <summary>Uploads random "stub" text at the chip's stub text_start and starts it like esptool does.</summary>
    internal static void UploadFakeStub(TestLink l, uint textStart, uint entryOffset, int statusBytes = 4)
    {
        var text = new byte[0x1900];
        new Random(42).NextBytes(text);
        var blocks = (text.Length + 0x17FF) / 0x1800;
        Assert.Equal(0, l.Transact(0x05, TestLink.Words((uint)text.Length, (uint)blocks, 0x1800, textStart))[8]);
        for (var i = 0; i < blocks; i++)
        {
            var chunk = text.AsSpan(i * 0x1800, Math.Min(0x1800, text.Length - i * 0x1800)).ToArray();
            l.SendPacket(TestLink.DataCommand(0x07, (uint)i, chunk));
            Assert.Equal(0, l.ReadFrame()[8]);
        }
        var end = l.Transact(0x06, TestLink.Words(0, textStart + entryOffset));
        Assert.Equal(8 + statusBytes, end.Length);
        Assert.Equal("OHAI"u8.ToArray(), l.ReadFrame());
    }

    [Theory]
    [InlineData("esp32", 0x400A8000u, StubKind.New)]
    [InlineData("esp32", 0x400BE000u, StubKind.Legacy)]
    [InlineData("esp32c3", 0x40380000u, StubKind.New)]
    [InlineData("esp32s3", 0x40378000u, StubKind.New)]
    [InlineData("esp32c6", 0x40800000u, StubKind.New)]
    public void Fake_stub_upload_says_ohai_and_switches_to_stub_semantics(string chip, uint textStart, StubKind kind)
    {
        using var c = Chips.New(chip);
        using var l = new TestLink(c.OpenHostStream());
        l.Sync();
        UploadFakeStub(l, textStart, 0x100);
        Assert.Equal(ChipMode.Stub, c.Mode);
        Assert.Equal(kind, c.RunningStub);
        Assert.Equal(textStart + 0x100, c.LastEntryPoint);
        var sync = l.Sync();
        Assert.All(sync, r => Assert.Equal(Convert.FromHexString("01080200000000000000"), r));
        var rr = l.Transact(0x0A, TestLink.Words(0x40001000));
        Assert.Equal(10, rr.Length);
        Assert.Equal(new byte[] { 0, 0 }, rr[8..]);
        // length checks -> 0xC0 (SPI_ATTACH takes 4 bytes on a stub)
        Assert.Equal(new byte[] { 0xC0, 0 }, l.Transact(0x0D, new byte[8])[8..]);
        Assert.Equal(new byte[] { 0, 0 }, l.Transact(0x0D, new byte[4])[8..]);
        // unknown opcode
        Assert.Equal(kind == StubKind.Legacy ? 0xFF : 0xC3, l.Transact(0x55, [])[8]);
    }

    [Fact]
    public void Other_code_at_a_non_stub_address_is_run_not_a_stub()
    {
        using var c = Chips.New("esp32c3");
        using var l = new TestLink(c.OpenHostStream());
        l.Sync();
        l.Transact(0x05, TestLink.Words(8, 1, 0x1800, 0x40390000));
        l.SendPacket(TestLink.DataCommand(0x07, 0, [1, 2, 3, 4, 5, 6, 7, 8]));
        l.ReadFrame();
        l.Transact(0x06, TestLink.Words(0, 0x40390000));
        Assert.Equal(ChipMode.RunningUserCode, c.Mode);
        Assert.Throws<TimeoutException>(() => l.ReadFrame(300));
    }

    private static (VirtualChip, TestLink) StubChip(string chip = "esp32c3", StubKind kind = StubKind.New, Func<VirtualChipOptions, VirtualChipOptions>? tweak = null)
    {
        var c = Chips.New(chip, o => (tweak ?? (x => x))(o with { StartInStub = true, DefaultStubKind = kind }));
        return (c, new TestLink(c.OpenHostStream()));
    }

    [Fact]
    public void Read_flash_streams_packets_waits_for_acks_and_ends_with_md5()
    {
        var (c, l) = StubChip();
        using (c) using (l)
        {
            var data = new byte[0x2800];
            new Random(3).NextBytes(data);
            c.Flash.Load(0x10000, data);
            Assert.Equal(new byte[] { 0, 0 }, l.Transact(0xD2, TestLink.Words(0x10000, (uint)data.Length, 0x1000, 64))[8..]);
            var got = new List<byte>();
            int unacked = 0;
            while (got.Count < data.Length)
            {
                var p = l.ReadFrame();
                Assert.Equal(Math.Min(0x1000, data.Length - got.Count), p.Length);
                got.AddRange(p);
                unacked++;
                // esp-flasher-stub keeps at most two packets unacknowledged: nothing more until acknowledged
                if (unacked == 2 && got.Count < data.Length) Assert.Throws<TimeoutException>(() => l.ReadFrame(150));
                if (unacked == 2 || got.Count == data.Length)
                {
                    l.SendPacket(TestLink.Words((uint)got.Count));
                    unacked = 0;
                }
            }
            Assert.Equal(data, got.ToArray());
            Assert.Equal(MD5.HashData(data), l.ReadFrame());
        }
    }

    [Fact]
    public void Stub_write_compressed_and_md5_raw()
    {
        var (c, l) = StubChip();
        using (c) using (l)
        {
            var data = new byte[0x6000];
            new Random(5).NextBytes(data.AsSpan(0, 0x3000));
            var ms = new MemoryStream();
            using (var z = new ZLibStream(ms, CompressionLevel.SmallestSize, true)) z.Write(data);
            var comp = ms.ToArray();
            var blocks = (comp.Length + 0x3FFF) / 0x4000;
            Assert.Equal(0, l.Transact(0x10, TestLink.Words((uint)data.Length, (uint)blocks, 0x4000, 0x8000, 0))[8]);
            for (var i = 0; i < blocks; i++)
            {
                l.SendPacket(TestLink.DataCommand(0x11, (uint)i, comp.AsSpan(i * 0x4000, Math.Min(0x4000, comp.Length - i * 0x4000))));
                Assert.Equal(0, l.ReadFrame()[8]);
            }
            // esptool leaves a compressed write with FLASH_BEGIN(0, 0) + FLASH_DEFL_END(1)
            Assert.Equal(0, l.Transact(0x02, TestLink.Words(0, 0, 0x4000, 0))[8]);
            Assert.Equal(0, l.Transact(0x12, TestLink.Words(1))[8]);
            var md5 = l.Transact(0x13, TestLink.Words(0x8000, (uint)data.Length, 0, 0));
            Assert.Equal(MD5.HashData(data), md5[8..24]);
            Assert.Equal(new byte[] { 0, 0 }, md5[24..]);
            Assert.Equal(data, c.Flash.Read(0x8000, data.Length));
        }
    }

    [Fact]
    public void Stub_error_codes()
    {
        var (c, l) = StubChip(kind: StubKind.Legacy);
        using (c) using (l)
        {
            l.SendPacket(TestLink.DataCommand(0x03, 0, new byte[4]));
            Assert.Equal(0xC6, l.ReadFrame()[8]);                                            // data without begin
            Assert.Equal(0xC2, l.Transact(0x02, TestLink.Words(0x100, 1, 0x8000, 0))[8]);   // block too big
            Assert.Equal(0, l.Transact(0x02, TestLink.Words(0x100, 1, 0x4000, 0))[8]);
            l.SendPacket(TestLink.DataCommand(0x03, 0, new byte[0x100], checksumDelta: 0x20));
            Assert.Equal(0xC1, l.ReadFrame()[8]);                                            // bad checksum
            Assert.Equal(0xC8, l.Transact(0x04, TestLink.Words(1))[8]);                       // end before all data
            Assert.Equal(0x32, l.Transact(0xD1, TestLink.Words(0x100, 0x1000))[8]);          // legacy: unaligned address
            Assert.Equal(0xC0, l.Transact(0x0A, new byte[3])[8]);                            // READ_REG length
        }
        var (n, nl) = StubChip(kind: StubKind.New);
        using (n) using (nl)
        {
            Assert.Equal(0xC0, nl.Transact(0xD1, TestLink.Words(0x100, 0x1000))[8]);        // new stub: 0xC0
            Assert.Equal(0, nl.Transact(0xD1, TestLink.Words(0x1000, 0x1000))[8]);
        }
    }

    [Fact]
    public void Stub_refuses_write_when_protection_cannot_be_unlocked()
    {
        // BP2..0 = 111 plus SRP1 (status register locked until power cycle): SPIUnlock fails -> 0xC5
        var (c, l) = StubChip(tweak: o => o with { FlashStatus = [0x1C, 0x01, 0] });
        using (c) using (l)
        {
            Assert.Equal(0xC5, l.Transact(0x02, TestLink.Words(0x1000, 1, 0x4000, 0, 0))[8]);
            Assert.Equal(0xC5, l.Transact(0xD1, TestLink.Words(0, 0x1000))[8]);
        }
        // Plain BP bits are cleared by the stub's unlock, so the write succeeds (as on hardware)
        var (u, ul) = StubChip(tweak: o => o with { FlashStatus = [0x1C, 0, 0] });
        using (u) using (ul)
        {
            Assert.Equal(0, ul.Transact(0x02, TestLink.Words(4, 1, 0x4000, 0, 0))[8]);
            Assert.Equal(0, u.Flash.NonVolatileStatus[0] & 0x1C);
        }
    }

    [Fact]
    public void Legacy_stub_flash_end_reboot_returns_to_rom()
    {
        var (c, l) = StubChip("esp32", StubKind.Legacy);
        using (c) using (l)
        {
            l.Transact(0x02, TestLink.Words(0, 0, 0x4000, 0));
            var end = l.Transact(0x04, TestLink.Words(0));
            Assert.Equal(Convert.FromHexString("01040200000000000000"), end);
            Assert.Equal(ChipMode.RomLoader, c.Mode);
            Assert.Equal(0x20120707u, Chips.U32(l.Sync()[0], 4));
        }
    }

    [Fact]
    public void Change_baudrate_replies_at_old_rate_then_switches()
    {
        var (c, l) = StubChip();
        using (c) using (l)
        {
            c.SetHostBaud(115200);
            Assert.Equal(0, l.Transact(0x0F, TestLink.Words(460800, 115200))[8]);
            // The chip switches after its reply is out: wait for it to finish the command before looking.
            Assert.True(c.WaitUntilIdle(TimeSpan.FromSeconds(10)));
            Assert.Equal(460800, c.ChipBaud);
            // host still at 115200: bytes are garbled, no sensible answer
            l.SendPacket(TestLink.Command(0x08, TestLink.SyncPayload));
            Assert.Throws<TimeoutException>(() => l.ReadFrame(300));
            Assert.True(c.Statistics.FaultCount(FaultKind.BaudMismatch) > 0);
            c.SetHostBaud(460800);
            Assert.Equal(8, l.Sync().Count);
        }
    }
}
