namespace Esp.Simulator.Tests;

/// <summary>
/// What the loaders do with requests that arrive before the previous reply, as the real code does it (measured on
/// Espressif's QEMU with the real ROMs and esp-flasher-stub; the fidelity suite compares the two byte for byte).
/// </summary>
public class ReceivePathTests
{
    private static byte[] ReadRegs(uint first, int count) =>
        Enumerable.Range(0, count).SelectMany(i => TestLink.Slip(TestLink.Command(0x0A, TestLink.Words(first + (uint)(4 * i))))).ToArray();

    private static List<byte[]> Frames(TestLink l, int max, int timeoutMs = 400)
    {
        var frames = new List<byte[]>();
        try
        {
            while (frames.Count < max) frames.Add(l.ReadFrame(timeoutMs));
        }
        catch (TimeoutException)
        {
        }
        return frames;
    }

    private static void FillRam(VirtualChip chip, uint at, int words)
    {
        for (int i = 0; i < words; i++) chip.WriteRegister(at + (uint)(4 * i), 0xA5000000u + (uint)i);
    }

    [Theory]
    [InlineData("esp32", 0x3FFB2000u)]
    [InlineData("esp32c3", 0x3FCB0000u)]
    public void TheRomAnswersRequestsQueuedBehindEachOtherInOrder(string chipKey, uint ram)
    {
        using var chip = Chips.New(chipKey);
        using var l = new TestLink(chip.OpenHostStream());
        l.Sync();
        FillRam(chip, ram, 16);
        l.SendRaw(ReadRegs(ram, 16)); // 16 × 14 bytes: below both rings
        var replies = Frames(l, 16);
        Assert.Equal(16, replies.Count);
        for (int i = 0; i < 16; i++) Assert.Equal(0xA5000000u + (uint)i, Chips.U32(replies[i], 4));
    }

    [Theory]
    [InlineData("esp32", 20, 256)]    // 280 bytes behind the MD5: one lap of the 256-byte ring lost, 24 bytes left
    [InlineData("esp32", 40, 256)]
    [InlineData("esp32c3", 140, 2048)] // 1960 bytes: the C3 ring keeps them all
    [InlineData("esp32c3", 150, 2048)] // 2100 bytes: one lap lost, 52 bytes left
    public void RequestsQueuedWhileTheRomIsBusyLoseWholeLapsOfItsRing(string chipKey, int count, int ring)
    {
        // An MD5 of 1 MiB keeps the ROM busy (flash timing on); the READ_REGs sent right behind it wait in its ring.
        using var chip = Chips.New(chipKey, o => o with { FlashTiming = o.FlashTiming with { Enabled = true } });
        using var l = new TestLink(chip.OpenHostStream());
        l.Sync();
        uint ram = chipKey == "esp32" ? 0x3FFB2000u : 0x3FCB0000u;
        FillRam(chip, ram, count);
        l.Transact(0x0B, TestLink.Words(0, 4 << 20, 0x10000, 0x1000, 0x100, 0xFFFF));
        var md5 = TestLink.Slip(TestLink.Command(0x13, TestLink.Words(0, 1 << 20, 0, 0)));
        var regs = ReadRegs(ram, count);
        l.SendRaw([.. md5, .. regs]);
        var replies = Frames(l, count + 1, timeoutMs: 3000);
        int kept = regs.Length % ring;
        int survivors = kept / 14; // whole requests in the surviving tail (each is 14 bytes, none escaped here)
        if (regs.Length < ring) survivors = count;
        Assert.Equal(1 + survivors, replies.Count);
        Assert.Equal(0x13, replies[0][1]);
        // The survivors are the last requests, answered in order with their own words.
        for (int i = 0; i < survivors; i++)
            Assert.Equal(0xA5000000u + (uint)(count - survivors + i), Chips.U32(replies[1 + i], 4));
        Assert.Equal(0xA5000000u + 7u, l.ReadReg(ram + 28)); // and the ROM carries on
    }

    [Fact]
    public void TheNewStubDropsARequestSentBehindAnother()
    {
        // Both requests reach the UART in one interrupt batch; the second arrives while no buffer is armed.
        using var chip = Chips.New("esp32c3", o => o with { StartInStub = true });
        using var l = new TestLink(chip.OpenHostStream());
        FillRam(chip, 0x3FCB0000, 2);
        l.SendRaw(ReadRegs(0x3FCB0000, 2));
        var replies = Frames(l, 2);
        Assert.Single(replies);
        Assert.Equal(0xA5000000u, Chips.U32(replies[0], 4));
        Assert.Equal(0xA5000001u, l.ReadReg(0x3FCB0004)); // dropped whole: the decoder is still in step
    }

    [Fact]
    public void TheNewStubTakesRequestsOneAtATime()
    {
        using var chip = Chips.New("esp32c3", o => o with { StartInStub = true });
        using var l = new TestLink(chip.OpenHostStream());
        FillRam(chip, 0x3FCB0000, 32);
        for (int i = 0; i < 32; i++) Assert.Equal(0xA5000000u + (uint)i, l.ReadReg(0x3FCB0000 + (uint)(4 * i)));
    }

    [Fact]
    public void TheNewStubAnswersOnlyTheFirstOfTwoDataBlocksSentTogether()
    {
        using var chip = Chips.New("esp32c3", o => o with { StartInStub = true });
        using var l = new TestLink(chip.OpenHostStream());
        var block = new byte[0x4000];
        new Random(3).NextBytes(block);
        Assert.Equal(0, l.Transact(0x02, TestLink.Words(0x8000, 2, 0x4000, 0x10000, 0))[8]);
        l.SendRaw([.. TestLink.Slip(TestLink.DataCommand(0x03, 0, block)), .. TestLink.Slip(TestLink.DataCommand(0x03, 1, block))]);
        var replies = Frames(l, 2, timeoutMs: 1000);
        Assert.Single(replies);
        Assert.Equal(0x03, replies[0][1]);
        Assert.Equal(block, chip.Flash.Read(0x10000, block.Length));
        Assert.All(chip.Flash.Read(0x14000, 16), b => Assert.Equal(0xFF, b));
        // The second block lost its opening delimiter, so the stub read its closing one as an opening: out of step,
        // every later request is lost…
        l.SendRaw(ReadRegs(0x40001000, 1));
        Assert.Empty(Frames(l, 1));
        // …until one extra delimiter puts the decoder back in step.
        l.SendRaw([0xC0]);
        Assert.Equal(0x1B31506Fu, l.ReadReg(0x40001000));
    }
}
