using System.Buffers.Binary;

namespace Esp.Simulator.Tests;

/// <summary>SPI flash transactions driven through the controller registers exactly as esptool does (§5.3).</summary>
public class SpiFlashTests
{
    private sealed record Regs(uint Base, uint Usr, uint Usr1, uint Usr2, uint MosiDlen, uint MisoDlen, uint W0, bool LeftJustified)
    {
        public static Regs For(string chip) => chip switch
        {
            "esp32" => new(0x3FF42000, 0x1C, 0x20, 0x24, 0x28, 0x2C, 0x80, true),
            "esp32c6" => new(0x60003000, 0x18, 0x1C, 0x20, 0x24, 0x28, 0x58, false),
            _ => new(0x60002000, 0x18, 0x1C, 0x20, 0x24, 0x28, 0x58, false),
        };
    }

    /// <summary>esptool's run_spiflash_command, written out by hand for ESP32 and later.</summary>
    private static uint Run(TestLink l, Regs r, byte opcode, byte[]? data = null, int readBits = 0, uint? addr = null, int addrBits = 0, int dummy = 0)
    {
        var oldUsr = l.ReadReg(r.Base + r.Usr);
        var oldUsr2 = l.ReadReg(r.Base + r.Usr2);
        int dataBits = (data?.Length ?? 0) * 8;
        if (dataBits > 0) l.WriteReg(r.Base + r.MosiDlen, (uint)dataBits - 1);
        if (readBits > 0) l.WriteReg(r.Base + r.MisoDlen, (uint)readBits - 1);
        if (dummy > 0 || addrBits > 0) l.WriteReg(r.Base + r.Usr1, (uint)(dummy - 1) | ((uint)(addrBits - 1) << 26));
        uint usr = 1u << 31;
        if (readBits > 0) usr |= 1u << 28;
        if (dataBits > 0) usr |= 1u << 27;
        if (addrBits > 0) usr |= 1u << 30;
        if (dummy > 0) usr |= 1u << 29;
        l.WriteReg(r.Base + r.Usr, usr);
        l.WriteReg(r.Base + r.Usr2, (7u << 28) | opcode);
        if (addr is { } a) l.WriteReg(r.Base + 4, r.LeftJustified ? a << (32 - addrBits) : a);
        if (dataBits == 0) l.WriteReg(r.Base + r.W0, 0);
        else
        {
            var padded = new byte[(data!.Length + 3) / 4 * 4];
            data.CopyTo(padded, 0);
            for (var i = 0; i < padded.Length; i += 4) l.WriteReg(r.Base + r.W0 + (uint)i, BinaryPrimitives.ReadUInt32LittleEndian(padded.AsSpan(i)));
        }
        l.WriteReg(r.Base, 1u << 18);
        var done = false;
        for (var i = 0; i < 10 && !done; i++) done = (l.ReadReg(r.Base) & (1u << 18)) == 0;
        Assert.True(done, "SPI command did not complete");
        var result = l.ReadReg(r.Base + r.W0);
        l.WriteReg(r.Base + r.Usr, oldUsr);
        l.WriteReg(r.Base + r.Usr2, oldUsr2);
        return result;
    }

    private static (VirtualChip, TestLink, Regs) Open(string chip, Func<VirtualChipOptions, VirtualChipOptions>? tweak = null)
    {
        var c = Chips.New(chip, tweak);
        var l = new TestLink(c.OpenHostStream());
        l.Sync();
        return (c, l, Regs.For(chip));
    }

    [Theory]
    [InlineData("esp32")]
    [InlineData("esp32c3")]
    [InlineData("esp32c6")]
    public void Rdid_returns_jedec_id_lsb_first(string chip)
    {
        var (c, l, r) = Open(chip);
        using (c) using (l)
        {
            Assert.Equal(0x001640C8u, Run(l, r, 0x9F, readBits: 24));
        }
    }

    [Fact]
    public void Rdid_capacity_byte_follows_flash_size()
    {
        var (c, l, r) = Open("esp32s3", o => o with { FlashSize = 16 << 20 });
        using (c) using (l) Assert.Equal(0x001840C8u, Run(l, r, 0x9F, readBits: 24));
    }

    [Theory]
    [InlineData("esp32")]
    [InlineData("esp32c3")]
    public void Rdsfdp_reads_signature_and_density(string chip)
    {
        var (c, l, r) = Open(chip);
        using (c) using (l)
        {
            Assert.Equal(0x50444653u, Run(l, r, 0x5A, readBits: 32, addr: 0, addrBits: 24, dummy: 8));
            // BFPT pointer from parameter header 0, then dword 2 = density in bits - 1
            var ptp = Run(l, r, 0x5A, readBits: 24, addr: 0x0C, addrBits: 24, dummy: 8);
            Assert.Equal(0x30u, ptp);
            Assert.Equal((uint)(4 * 1024 * 1024 * 8 - 1), Run(l, r, 0x5A, readBits: 32, addr: ptp + 4, addrBits: 24, dummy: 8));
            // erase types 4K/32K/64K
            Assert.Equal(0x520F200Cu, Run(l, r, 0x5A, readBits: 32, addr: ptp + 28, addrBits: 24, dummy: 8));
            Assert.Equal(0x0000D810u, Run(l, r, 0x5A, readBits: 32, addr: ptp + 32, addrBits: 24, dummy: 8) & 0xFFFF);
            Assert.Equal(0x50444653u, BinaryPrimitives.ReadUInt32LittleEndian(c.Flash.Sfdp));
        }
    }

    [Fact]
    public void Long_reads_fill_w0_to_w15()
    {
        var (c, l, r) = Open("esp32c3");
        using (c) using (l)
        {
            var data = Enumerable.Range(0, 64).Select(i => (byte)(i + 1)).ToArray();
            c.Flash.Load(0x1000, data);
            Run(l, r, 0x03, readBits: 512, addr: 0x1000, addrBits: 24);
            for (var w = 0; w < 16; w++)
                Assert.Equal(BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(4 * w)), c.ReadRegister(r.Base + r.W0 + (uint)(4 * w)));
        }
    }

    [Fact]
    public void Volatile_and_non_volatile_status_writes()
    {
        var (c, l, r) = Open("esp32");
        using (c) using (l)
        {
            // volatile: 50h then WRSR with two bytes (SR1 = 0x1C: BP0-2, SR2 = 0x02: QE)
            Run(l, r, 0x50);
            Run(l, r, 0x01, data: [0x1C, 0x02]);
            Assert.Equal(0x1Cu, Run(l, r, 0x05, readBits: 8));
            Assert.Equal(0x02u, Run(l, r, 0x35, readBits: 8));
            Assert.Equal(new byte[] { 0x1C, 0x02, 0 }, c.Flash.VolatileStatus);
            Assert.Equal(new byte[] { 0, 0, 0 }, c.Flash.NonVolatileStatus);
            // WRSR without any enable is ignored
            Run(l, r, 0x01, data: [0x00]);
            Assert.Equal(0x1Cu, Run(l, r, 0x05, readBits: 8));
            // power cycle restores the non-volatile value
            c.PowerOnReset();
            l.Sync();
            Assert.Equal(0x00u, Run(l, r, 0x05, readBits: 8));
            // non-volatile: WREN sets WEL (visible in SR1), WRSR3 with one byte, WRDI clears WEL
            Run(l, r, 0x06);
            Assert.Equal(0x02u, Run(l, r, 0x05, readBits: 8));
            Run(l, r, 0x11, data: [0x60]);
            Assert.Equal(0x60u, Run(l, r, 0x15, readBits: 8));
            Assert.Equal(0x60, c.Flash.NonVolatileStatus[2]);
            Run(l, r, 0x06);
            Run(l, r, 0x04);
            Assert.Equal(0x00u, Run(l, r, 0x05, readBits: 8));
            // 66h/99h software reset reloads volatile from non-volatile
            Run(l, r, 0x50);
            Run(l, r, 0x31, data: [0x02]);
            Assert.Equal(0x02u, Run(l, r, 0x35, readBits: 8));
            Run(l, r, 0x66);
            Run(l, r, 0x99);
            Assert.Equal(0x00u, Run(l, r, 0x35, readBits: 8));
        }
    }

    [Fact]
    public void Block_protection_makes_rom_flash_write_fail_with_01_08()
    {
        // SR1 BP2..0 = 111: whole array protected
        var (c, l, r) = Open("esp32c3");
        using (c) using (l)
        {
            Run(l, r, 0x06);
            Run(l, r, 0x01, data: [0x1C]);
            Assert.Equal(0x1C, c.Flash.NonVolatileStatus[0]);
            l.Transact(0x0B, TestLink.Words(0, 4 << 20, 0x10000, 0x1000, 0x100, 0xFFFF));
            Assert.Equal(0, l.Transact(0x02, TestLink.Words(0x400, 1, 0x400, 0x0, 0))[8]);
            l.SendPacket(TestLink.DataCommand(0x03, 0, new byte[0x400]));
            Assert.Equal(new byte[] { 1, 8, 0, 0 }, l.ReadFrame()[8..]);
            Assert.All(c.Flash.Read(0, 0x400), b => Assert.Equal(0xFF, b));
        }
    }

    [Fact]
    public void Upper_block_protection_range_follows_bp_tb_sec_cmp()
    {
        using var c = Chips.New("esp32", o => o with { FlashStatus = [0x04, 0, 0] }); // BP0: upper 1/64 = 64 KiB
        Assert.Equal((4L * 1024 * 1024 - 0x10000, 4L * 1024 * 1024), c.Flash.ProtectedRange());
        using var t = Chips.New("esp32", o => o with { FlashStatus = [0x04 | 0x20 | 0x40, 0, 0] }); // TB + SEC: lower 4 KiB
        Assert.Equal((0L, 0x1000L), t.Flash.ProtectedRange());
        using var m = Chips.New("esp32", o => o with { FlashStatus = [0x04 | 0x20 | 0x40, 0x40, 0] }); // + CMP: all but lower 4 KiB
        Assert.Equal((0x1000L, 4L * 1024 * 1024), m.Flash.ProtectedRange());
    }

    [Fact]
    public void Cmd_bit_18_self_clears_and_user_registers_restore()
    {
        var (c, l, r) = Open("esp32c3");
        using (c) using (l)
        {
            var usr = l.ReadReg(r.Base + r.Usr);
            Run(l, r, 0x9F, readBits: 24);
            Assert.Equal(0u, l.ReadReg(r.Base));
            Assert.Equal(usr, l.ReadReg(r.Base + r.Usr));
        }
    }
}
