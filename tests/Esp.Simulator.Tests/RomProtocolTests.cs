using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Esp.Simulator.Tests;

public class RomProtocolTests
{
    [Theory]
    [InlineData("esp8266", 2)]
    [InlineData("esp32", 4)]
    [InlineData("esp32s2", 4)]
    [InlineData("esp32s3", 4)]
    [InlineData("esp32c3", 4)]
    [InlineData("esp32c6", 4)]
    [InlineData("esp32c2", 4)]
    [InlineData("esp32h2", 4)]
    [InlineData("esp32p4", 4)]
    public void Sync_gives_eight_identical_rom_replies(string chip, int statusBytes)
    {
        using var c = Chips.New(chip);
        using var l = new TestLink(c.OpenHostStream());
        var replies = l.Sync();
        Assert.Equal(8, replies.Count);
        var expected = new byte[8 + statusBytes];
        expected[0] = 1; expected[1] = 8; expected[2] = (byte)statusBytes;
        expected[4] = 0x07; expected[5] = 0x07; expected[6] = 0x12; expected[7] = 0x20;
        foreach (var r in replies) Assert.Equal(expected, r);
    }

    [Theory]
    [InlineData("esp8266", 0xFFF0C101u)]
    [InlineData("esp32", 0x00F01D83u)]
    [InlineData("esp32s2", 0x000007C6u)]
    [InlineData("esp32s3", 0x00000009u)]
    [InlineData("esp32c3", 0x1B31506Fu)]
    [InlineData("esp32c6", 0x2CE0806Fu)]
    public void Read_reg_of_detection_magic(string chip, uint magic)
    {
        using var c = Chips.New(chip);
        using var l = new TestLink(c.OpenHostStream());
        l.Sync();
        var r = l.Transact(0x0A, TestLink.Words(0x40001000));
        Assert.Equal(1, r[0]);
        Assert.Equal(0x0A, r[1]);
        Assert.Equal(magic, Chips.U32(r, 4));
        Assert.Equal(chip == "esp8266" ? 10 : 12, r.Length);
    }

    [Fact]
    public void Esp32_worked_example_bytes()
    {
        using var c = Chips.New("esp32");
        using var l = new TestLink(c.OpenHostStream());
        l.SendPacket([0x00, 0x0A, 0x04, 0x00, 0, 0, 0, 0, 0x00, 0x10, 0x00, 0x40]);
        Assert.Equal(new byte[] { 0x01, 0x0A, 0x04, 0x00, 0x83, 0x1D, 0xF0, 0x00, 0, 0, 0, 0 }, l.ReadFrame());
    }

    [Fact]
    public void Rom_value_field_is_stale_last_read()
    {
        using var c = Chips.New("esp32");
        using var l = new TestLink(c.OpenHostStream());
        l.Sync();
        var attach = l.Transact(0x0D, new byte[8]);
        Assert.Equal(0x20120707u, Chips.U32(attach, 4)); // after SYNC
        l.ReadReg(0x3FF5A004);
        var w = l.WriteReg(0x3FFB2000, 1);
        Assert.Equal(c.ReadRegister(0x3FF5A004), Chips.U32(w, 4));
    }

    [Fact]
    public void Mem_data_checksum_error_is_01_07()
    {
        using var c = Chips.New("esp32");
        using var l = new TestLink(c.OpenHostStream());
        l.Sync();
        Assert.Equal(0, l.Transact(0x05, TestLink.Words(4, 1, 0x1800, 0x3FFB0000))[8]);
        l.SendPacket(TestLink.DataCommand(0x07, 0, [0xDE, 0xAD, 0xBE, 0xEF], checksumDelta: 1));
        var r = l.ReadFrame();
        Assert.Equal(new byte[] { 1, 7, 4, 0 }, r[..4]);
        Assert.Equal(new byte[] { 1, 7, 0, 0 }, r[8..]);
        // the worked example from §12 is accepted
        l.SendPacket([0x00, 0x07, 0x14, 0x00, 0xCD, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xDE, 0xAD, 0xBE, 0xEF]);
        Assert.Equal(new byte[] { 0, 0, 0, 0 }, l.ReadFrame()[8..]);
        Assert.Equal(new byte[] { 0xDE, 0xAD, 0xBE, 0xEF }, c.ReadMemory(0x3FFB0000, 4));
    }

    [Fact]
    public void Esp32_rom_answers_get_security_info_with_previous_opcode()
    {
        using var c = Chips.New("esp32");
        using var l = new TestLink(c.OpenHostStream());
        l.Sync();
        l.SendPacket(TestLink.Command(0x14, []));
        for (var i = 0; i < 8; i++)
            Assert.Equal(Convert.FromHexString("010804000707122001050000"), l.ReadFrame());
        l.WriteReg(0x3FFB2000, 5);
        l.SendPacket(TestLink.Command(0x14, []));
        var r = l.ReadFrame();
        Assert.Equal(0x09, r[1]);
        Assert.Equal(new byte[] { 1, 5, 0, 0 }, r[8..]);
        Assert.Throws<TimeoutException>(() => l.ReadFrame(300)); // only one copy after WRITE_REG
    }

    [Fact]
    public void Unknown_opcode_on_esp8266_rom_is_invalid_with_two_status_bytes()
    {
        using var c = Chips.New("esp8266");
        using var l = new TestLink(c.OpenHostStream());
        l.Sync();
        l.ReadReg(0x40001000);
        l.SendPacket(TestLink.Command(0x13, new byte[16])); // MD5: not in the ESP8266 ROM
        var r = l.ReadFrame();
        Assert.Equal(0x0A, r[1]);
        Assert.Equal(new byte[] { 1, 5 }, r[8..]);
    }

    [Theory]
    [InlineData("esp32s2", 12, 2)]
    [InlineData("esp32s3", 20, 9)]
    [InlineData("esp32c3", 20, 5)]
    [InlineData("esp32c6", 20, 13)]
    public void Get_security_info_lengths(string chip, int length, int chipId)
    {
        using var c = Chips.New(chip, o => o with { SecureDownload = false, FlashCryptCnt = 1 });
        using var l = new TestLink(c.OpenHostStream());
        l.Sync();
        var r = l.Transact(0x14, []);
        Assert.Equal(length + 4, BinaryPrimitives.ReadUInt16LittleEndian(r.AsSpan(2)));
        Assert.Equal(8 + length + 4, r.Length);
        Assert.Equal(1, r[12]);
        if (length == 20) Assert.Equal((uint)chipId, Chips.U32(r, 8 + 12));
    }

    [Fact]
    public void Secure_download_mode_refuses_read_reg_but_allows_flash_begin()
    {
        using var c = Chips.New("esp32s3", o => o with { SecureDownload = true });
        using var l = new TestLink(c.OpenHostStream());
        l.Sync();
        var sec = l.Transact(0x14, []);
        Assert.Equal(4u, Chips.U32(sec, 8) & 4);
        var r = l.Transact(0x0A, TestLink.Words(0x40001000));
        Assert.NotEqual(0x0A, r[1]);
        Assert.Equal(new byte[] { 1, 5, 0, 0 }, r[8..]);
        var fb = l.Transact(0x02, TestLink.Words(0x1000, 1, 0x400, 0x10000, 0));
        Assert.Equal(0x02, fb[1]);
        Assert.Equal(0, fb[8]);
    }

    [Fact]
    public void Rom_flash_write_md5_and_read_flash_slow()
    {
        using var c = Chips.New("esp32c3");
        using var l = new TestLink(c.OpenHostStream());
        l.Sync();
        Assert.Equal(0, l.Transact(0x0B, TestLink.Words(0, 4 << 20, 0x10000, 0x1000, 0x100, 0xFFFF))[8]);
        var data = Enumerable.Range(0, 0x400).Select(i => (byte)(i * 7)).ToArray();
        Assert.Equal(0, l.Transact(0x02, TestLink.Words(0x400, 1, 0x400, 0x20000, 0))[8]);
        l.SendPacket(TestLink.DataCommand(0x03, 0, data));
        Assert.Equal(0, l.ReadFrame()[8]);
        Assert.Equal(data, c.Flash.Read(0x20000, 0x400));
        var md5 = l.Transact(0x13, TestLink.Words(0x20000, 0x400, 0, 0));
        Assert.Equal(Convert.ToHexStringLower(MD5.HashData(data)), Encoding.ASCII.GetString(md5, 8, 32));
        Assert.Equal(8 + 32 + 4, md5.Length);
        var slow = l.Transact(0x0E, TestLink.Words(0x20010, 16));
        Assert.Equal(8 + 64 + 4, slow.Length);
        Assert.Equal(data[0x10..0x50], slow[8..72]);
        // ROM verifies by reading back: writing over non-erased data fails with 01 08
        l.SendPacket(TestLink.DataCommand(0x03, 0, Enumerable.Repeat((byte)0xFF, 0x400).ToArray()));
        Assert.Equal(new byte[] { 1, 8, 0, 0 }, l.ReadFrame()[8..]);
    }

    [Fact]
    public void Rom_defaults_to_2MB_until_spi_set_params()
    {
        using var c = Chips.New("esp32");
        using var l = new TestLink(c.OpenHostStream());
        l.Sync();
        Assert.Equal(1, l.Transact(0x13, TestLink.Words(0x200000, 0x1000, 0, 0))[8]);
        l.Transact(0x0B, TestLink.Words(0, 4 << 20, 0x10000, 0x1000, 0x100, 0xFFFF));
        Assert.Equal(0, l.Transact(0x13, TestLink.Words(0x200000, 0x1000, 0, 0))[8 + 32]);
    }

    [Fact]
    public void Esp8266_rom_flash_begin_erases_with_the_rom_bug()
    {
        using var c = Chips.New("esp8266");
        c.Flash.Load(0, new byte[0x20000]); // all zero
        using var l = new TestLink(c.OpenHostStream());
        l.Sync();
        // esptool's compensated size for 3 sectors at 0: head = 16, S < 2*head -> (3+1)/2 = 2 sectors
        var r = l.Transact(0x02, TestLink.Words(2 * 0x1000, 3, 0x400, 0));
        Assert.Equal(new byte[] { 0, 0 }, r[8..]);
        Assert.All(c.Flash.Read(0, 4 * 0x1000), b => Assert.Equal(0xFF, b)); // 2 + min(16, 2) = 4 sectors erased
        Assert.Equal(0, c.Flash.Read(4 * 0x1000, 1)[0]);
    }

    [Fact]
    public void Change_baudrate_on_rom_replies_then_sends_empty_frame()
    {
        using var c = Chips.New("esp32c3");
        using var l = new TestLink(c.OpenHostStream());
        l.Sync();
        var r = l.Transact(0x0F, TestLink.Words(921600, 0));
        Assert.Equal(0x0F, r[1]);
        Assert.Empty(l.ReadFrame());
        Assert.Equal(921600, c.ChipBaud);
    }

    [Fact]
    public void Load_ram_runs_user_code_and_goes_silent()
    {
        using var c = Chips.New("esp32");
        using var l = new TestLink(c.OpenHostStream());
        l.Sync();
        var code = Enumerable.Range(0, 64).Select(i => (byte)i).ToArray();
        l.Transact(0x05, TestLink.Words(64, 1, 0x1800, 0x40090000));
        l.SendPacket(TestLink.DataCommand(0x07, 0, code));
        Assert.Equal(0, l.ReadFrame()[8]);
        var end = l.Transact(0x06, TestLink.Words(0, 0x40090008));
        Assert.Equal(0, end[8]);
        Assert.Equal(ChipMode.RunningUserCode, c.Mode);
        Assert.Equal(0x40090008u, c.LastEntryPoint);
        var seg = Assert.Single(c.LoadedSegments);
        Assert.Equal(0x40090000u, seg.Address);
        Assert.Equal(code, seg.Data);
        l.SendPacket(TestLink.Command(0x08, TestLink.SyncPayload));
        Assert.Throws<TimeoutException>(() => l.ReadFrame(300));
    }

    [Fact]
    public void Write_reg_masks_and_multiple_records()
    {
        using var c = Chips.New("esp32c3");
        using var l = new TestLink(c.OpenHostStream());
        l.Sync();
        l.WriteReg(0x3FCB0000, 0xCAFEF00D);
        l.WriteReg(0x3FCB0000, 0x12345678, 0x0000FFFF);
        Assert.Equal(0xCAFE5678u, l.ReadReg(0x3FCB0000));
        var r = l.Transact(0x09, TestLink.Words(0x3FCB0004, 1, 0xFFFFFFFF, 0, 0x3FCB0008, 2, 0xFFFFFFFF, 10));
        Assert.Equal(0, r[8]);
        Assert.Equal(1u, c.ReadRegister(0x3FCB0004));
        Assert.Equal(2u, c.ReadRegister(0x3FCB0008));
        // IRAM view aliases the same SRAM on the C3
        Assert.Equal(0xCAFE5678u, c.ReadRegister(0x3FCB0000 + 0x700000));
        // unmapped: reads 0, writes ignored
        l.WriteReg(0x20000000, 0x55);
        Assert.Equal(0u, l.ReadReg(0x20000000));
    }
}
