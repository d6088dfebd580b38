namespace Esp.Simulator.Tests;

public class LinkAndStateTests
{
    private static byte[] CorruptedSyncStream(int seed)
    {
        using var c = Chips.New("esp32", o => o with
        {
            Faults = new FaultOptions { Seed = seed, Direction = FaultDirection.ChipToHost, FlipBitRate = 0.05, DropByteRate = 0.01, InsertByteRate = 0.01 },
        });
        using var s = c.OpenHostStream();
        var l = new TestLink(s);
        l.SendPacket(TestLink.Command(0x08, TestLink.SyncPayload));
        var deadline = Environment.TickCount64 + 5000;
        var all = new List<byte>();
        while (c.Statistics.BytesToHost < 8 * 14 && Environment.TickCount64 < deadline) Thread.Sleep(5);
        all.AddRange(l.ReadFor(200));
        Assert.True(c.Statistics.FaultsInjected > 0);
        return all.ToArray();
    }

    [Fact]
    public void Same_seed_gives_the_same_corrupted_stream()
    {
        var a = CorruptedSyncStream(7);
        var b = CorruptedSyncStream(7);
        var other = CorruptedSyncStream(8);
        Assert.Equal(a, b);
        Assert.NotEqual(a, other);
        var clean = TestLink.Slip(Convert.FromHexString("010804000707122000000000"));
        Assert.NotEqual(Enumerable.Repeat(clean, 8).SelectMany(x => x).ToArray(), a);
    }

    [Fact]
    public void Injector_is_deterministic_and_counts()
    {
        var input = Enumerable.Range(0, 4096).Select(i => (byte)i).ToArray();
        var o = new FaultOptions { FlipBitRate = 0.01, DropByteRate = 0.01, InsertByteRate = 0.01 };
        var s1 = new SimStatistics();
        var s2 = new SimStatistics();
        Assert.Equal(new ByteFaultInjector(o, 3, s1).Apply(input), new ByteFaultInjector(o, 3, s2).Apply(input));
        Assert.Equal(s1.FaultsInjected, s2.FaultsInjected);
        Assert.True(s1.FaultCount(FaultKind.FlipBit) > 0 && s1.FaultCount(FaultKind.DropByte) > 0 && s1.FaultCount(FaultKind.InsertByte) > 0);
    }

    [Fact]
    public void Reset_mid_command_fault_resets_to_rom_without_reply()
    {
        using var c = Chips.New("esp32c3", o => o with { Faults = new FaultOptions { ResetMidCommandRate = 1.0 }, PrintBootBanner = true, StartInStub = true });
        using var l = new TestLink(c.OpenHostStream());
        l.SendPacket(TestLink.Command(0x0A, TestLink.Words(0x40001000)));
        Assert.Throws<TimeoutException>(() => l.ReadFrame(300));
        Assert.Equal(ChipMode.RomLoader, c.Mode);
        Assert.Contains("RTCWDT_RTC_RESET", System.Text.Encoding.Latin1.GetString(l.Raw.ToArray()));
        Assert.Equal(1, c.Statistics.FaultCount(FaultKind.ResetMidCommand));
    }

    [Fact]
    public void Disconnect_fault_closes_the_link()
    {
        using var c = Chips.New("esp32", o => o with { Faults = new FaultOptions { DisconnectAfterHostBytes = 10 } });
        using var s = c.OpenHostStream();
        var l = new TestLink(s);
        l.SendPacket(TestLink.Command(0x08, TestLink.SyncPayload));
        Assert.Throws<EndOfStreamException>(() => l.ReadFrame(1000));
        Assert.Throws<IOException>(() => s.Write(new byte[1]));
        Assert.Equal(1, c.Statistics.FaultCount(FaultKind.Disconnect));
    }

    [Fact]
    public void Rx_overrun_drops_bytes_while_the_chip_is_busy()
    {
        using var c = Chips.New("esp32", o => o with { Link = new LinkOptions { RxBufferSize = 64 } });
        using var l = new TestLink(c.OpenHostStream());
        l.Sync();
        // WRITE_REG with a 300 ms delay keeps the chip busy; what arrives meanwhile beyond 64 bytes is lost
        l.SendPacket(TestLink.Command(0x09, TestLink.Words(0x3FFB0000, 1, 0xFFFFFFFF, 300_000)));
        Thread.Sleep(50);
        for (var i = 0; i < 4; i++) l.SendPacket(TestLink.Command(0x08, TestLink.SyncPayload));
        Assert.Equal(0x09, l.ReadFrame()[1]);
        Assert.True(c.Statistics.FaultCount(FaultKind.RxOverrun) > 0);
        Assert.True(c.Statistics.MaxBytesBuffered <= 64);
    }

    [Fact]
    public void State_file_persists_flash_between_chip_instances()
    {
        var dir = Directory.CreateTempSubdirectory("esp-sim-state");
        try
        {
            var path = Path.Combine(dir.FullName, "flash.bin");
            using (var c = VirtualChip.FromUri($"sim:esp32c3?flash=2MB&state={path}&banner=false&stub=true"))
            {
                using var l = new TestLink(c.OpenHostStream());
                l.Transact(0x02, TestLink.Words(4, 1, 0x4000, 0x3000, 0));
                l.SendPacket(TestLink.DataCommand(0x03, 0, [1, 2, 3, 4]));
                Assert.Equal(0, l.ReadFrame()[8]);
                Assert.Equal(0, l.Transact(0x04, TestLink.Words(1))[8]);
            }
            Assert.Equal(2 * 1024 * 1024, new FileInfo(path).Length);
            using var again = VirtualChip.FromUri($"sim:esp32c3?flash=2MB&state={path}");
            Assert.Equal(new byte[] { 1, 2, 3, 4 }, again.Flash.Read(0x3000, 4));
            Assert.Throws<InvalidDataException>(() => VirtualChip.FromUri($"sim:esp32c3?flash=4MB&state={path}"));
        }
        finally { dir.Delete(true); }
    }

    [Fact]
    public void Settings_apply_after_the_uri_and_win()
    {
        var o = SimUri.Parse("sim:esp32c3?revision=3&seed=5", ["revision=4", "state=/p/a&b=c.bin", "stub"]);
        Assert.Equal("esp32c3", o.Chip);
        Assert.Equal(4, o.Revision);
        Assert.Equal(5, o.Faults.Seed);
        Assert.Equal("/p/a&b=c.bin", o.StatePath); // escaped on the way in
        Assert.True(o.StartInStub);                // a key alone means true
        Assert.Equal(2 << 20, SimUri.Parse("sim:", ["flash=2MB"]).FlashSize);
        Assert.Equal(SimUri.Parse("sim:esp32s3").Chip, SimUri.Parse("sim:esp32s3", []).Chip);
        Assert.Contains("flsh", Assert.Throws<ArgumentException>(() => SimUri.Parse("sim:", ["flsh=4MB"])).Message);
    }

    [Fact]
    public void Chip_of_a_uri_is_null_when_it_names_none()
    {
        Assert.Equal("esp32c3", SimUri.ChipOf("sim:ESP32-C3?seed=1"));
        Assert.Equal("esp32s3", SimUri.ChipOf("sim://esp32s3"));
        Assert.Null(SimUri.ChipOf("sim:"));
        Assert.Null(SimUri.ChipOf("sim:?seed=1"));
        Assert.Throws<ArgumentException>(() => SimUri.ChipOf("sim:esp99"));
        Assert.Throws<ArgumentException>(() => SimUri.ChipOf("socket://127.0.0.1:5555"));
    }

    [Fact]
    public void From_uri_parses_keys_and_rejects_unknown_ones()
    {
        var dir = Directory.CreateTempSubdirectory("esp-sim-uri");
        try
        {
            var pt = Path.Combine(dir.FullName, "pt.bin");
            File.WriteAllBytes(pt, [0xAA, 0x50]);
            var o = SimUri.Parse($"sim:esp32c3?flash=8MB&preload=0x8000:{pt}&preload=0x9000:{pt}&seed=5&baud-throttle=true&latency-us=1000&stub=false&secure-download=true&flash-crypt-cnt=1&revision=4&mac=58:cf:79:0a:0b:0c&download=false");
            Assert.Equal("esp32c3", o.Chip);
            Assert.Equal(8 << 20, o.FlashSize);
            Assert.Equal(2, o.Preloads.Count);
            Assert.Equal(0x9000u, o.Preloads[1].Address);
            Assert.Equal(5, o.Faults.Seed);
            Assert.True(o.Link.BaudThrottle);
            Assert.Equal(TimeSpan.FromMilliseconds(1), o.Link.ChipToHostLatency);
            Assert.True(o.SecureDownload);
            Assert.Equal(4, o.Revision);
            Assert.False(o.StartInDownloadMode);
            Assert.Equal("esp32", SimUri.Parse("sim:").Chip);
            var e = Assert.Throws<ArgumentException>(() => SimUri.Parse("sim:esp32?flsh=4MB"));
            Assert.Contains("flsh", e.Message);
            Assert.Throws<ArgumentException>(() => SimUri.Parse("sim:esp99"));
            using var chip = VirtualChip.FromUri($"sim:esp32s3?preload=0x8000:{pt}&mac=f4:12:fa:0a:0b:0c");
            Assert.Equal("esp32s3", chip.ChipKey);
            Assert.Equal(new byte[] { 0xAA, 0x50 }, chip.Flash.Read(0x8000, 2));
            Assert.Equal(0xFA0A0B0Cu, chip.ReadRegister(0x60007044));
        }
        finally { dir.Delete(true); }
    }

    [Fact]
    public void Esp32_identity_registers_match_the_trace_identity()
    {
        using var c = Chips.New("esp32", o => o with { Peripherals = PeripheralProfile.QemuLike });
        Assert.Equal(0xC4010203u, c.ReadRegister(0x3FF5A004));
        Assert.Equal(0x0038240Au, c.ReadRegister(0x3FF5A008)); // CRC 0x38
        Assert.Equal(0x00008200u, c.ReadRegister(0x3FF5A00C));
        Assert.Equal(0x00100000u, c.ReadRegister(0x3FF5A014));
        Assert.Equal(0x96042000u, c.ReadRegister(0x3FF6607C));
        Assert.Equal(0x15Au, c.ReadRegister(0x3FF40014));
        using var s = Chips.New("esp32");
        // silicon: CLKDIV gives the 40 MHz crystal at 115200 (esptool: baud * div / 1e6)
        var div = s.ReadRegister(0x3FF40014) & 0xFFFFF;
        Assert.InRange(115200.0 * div / 1e6, 39.5, 40.5);
        using var e8266 = Chips.New("esp8266");
        Assert.InRange(115200.0 * (e8266.ReadRegister(0x60000014) & 0xFFFFF) / 1e6 / 2, 25.5, 26.5);
    }

    [Fact]
    public void State_saves_that_overlap_all_succeed_and_leave_the_last_flash()
    {
        // The save timer and the save on dispose (or an explicit save) can run at the same time.
        var dir = Directory.CreateTempSubdirectory("esp-sim-state");
        try
        {
            var path = Path.Combine(dir.FullName, "flash.bin");
            using (var chip = Chips.New("esp32c3", o => o with { StatePath = path, FlashSize = 1024 * 1024 }))
            {
                var errors = new System.Collections.Concurrent.ConcurrentQueue<Exception>();
                var savers = Enumerable.Range(0, 4).Select(_ => new Thread(() =>
                {
                    for (int i = 0; i < 25; i++)
                    {
                        try { chip.SaveState(); }
                        catch (IOException e) { errors.Enqueue(e); }
                    }
                })).ToList();
                savers.ForEach(t => t.Start());
                savers.ForEach(t => t.Join());
                Assert.Empty(errors);
                chip.Flash.Load(0x1000, [1, 2, 3]);
            }
            Assert.Equal(new byte[] { 1, 2, 3 }, File.ReadAllBytes(path).AsSpan(0x1000, 3).ToArray());
            Assert.Single(Directory.GetFiles(dir.FullName));
        }
        finally { dir.Delete(true); }
    }
}
