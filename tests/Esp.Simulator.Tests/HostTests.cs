using System.Net.Sockets;
using System.Text;

namespace Esp.Simulator.Tests;

public class HostTests
{
    [Fact]
    public void Tcp_server_client_syncs()
    {
        using var chip = Chips.New("esp32c3");
        using var server = new TcpSerialServer(chip);
        using var client = new TcpClient("127.0.0.1", server.Port);
        using var link = new TestLink(client.GetStream());
        Assert.All(link.Sync(), r => Assert.Equal(0x08, r[1]));
        Assert.Equal(0x1B31506Fu, link.ReadReg(0x40001000));
    }

    [Fact]
    public void Tcp_server_accepts_a_second_client_after_the_first_leaves()
    {
        using var chip = Chips.New("esp32");
        using var server = new TcpSerialServer(chip);
        for (var i = 0; i < 2; i++)
        {
            using var client = new TcpClient("127.0.0.1", server.Port);
            using var link = new TestLink(client.GetStream());
            Assert.Equal(8, link.Sync().Count);
        }
    }

    [Fact]
    public void Pty_host_client_syncs_through_the_symlink()
    {
        if (!OperatingSystem.IsLinux()) return;
        var dir = Directory.CreateTempSubdirectory("esp-sim-pty");
        try
        {
            using var chip = Chips.New("esp32");
            var linkPath = Path.Combine(dir.FullName, "esp32.tty");
            using var pty = new PtyHost(chip, linkPath);
            Assert.Equal(linkPath, pty.Path);
            for (var round = 0; round < 2; round++) // clients can close and reopen
            {
                using var fs = new FileStream(linkPath, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite, 1);
                var sync = TestLink.Slip(TestLink.Command(0x08, TestLink.SyncPayload));
                fs.Write(sync);
                fs.Flush();
                var expected = TestLink.Slip(Convert.FromHexString("010804000707122000000000"));
                var got = new List<byte>();
                var buf = new byte[256];
                var readTask = Task.Run(() =>
                {
                    while (got.Count < expected.Length * 8)
                    {
                        var n = fs.Read(buf, 0, buf.Length);
                        if (n <= 0) break;
                        got.AddRange(buf.AsSpan(0, n).ToArray());
                    }
                });
                Assert.True(readTask.Wait(TimeSpan.FromSeconds(10)), "no SYNC replies through the pty");
                Assert.Equal(Enumerable.Repeat(expected, 8).SelectMany(x => x).ToArray(), got.ToArray());
            }
        }
        finally { dir.Delete(true); }
    }

    /// <summary>Minimal RFC 2217 client: telnet framing on the data path, COM-PORT SET-CONTROL for DTR/RTS.</summary>
    private sealed class TelnetStream(NetworkStream net) : Stream
    {
        private int _state; // 0 data, 1 IAC, 2 option, 3 SB, 4 SB-IAC
        public List<byte[]> Subnegotiations { get; } = new();
        private readonly List<byte> _sb = new();

        public void Send(params byte[] raw) => net.Write(raw);
        public void SetControl(byte value) => Send(255, 250, 44, 5, value, 255, 240);

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default)
        {
            var raw = new byte[buffer.Length];
            while (true)
            {
                var n = await net.ReadAsync(raw, ct);
                if (n == 0) return 0;
                var o = 0;
                for (var i = 0; i < n; i++)
                {
                    var b = raw[i];
                    switch (_state)
                    {
                        case 0: if (b == 255) _state = 1; else buffer.Span[o++] = b; break;
                        case 1:
                            if (b == 255) { buffer.Span[o++] = b; _state = 0; }
                            else if (b == 250) { _sb.Clear(); _state = 3; }
                            else if (b >= 251) _state = 2;
                            else _state = 0;
                            break;
                        case 2: _state = 0; break;
                        case 3: if (b == 255) _state = 4; else _sb.Add(b); break;
                        case 4:
                            if (b == 255) { _sb.Add(b); _state = 3; }
                            else { lock (Subnegotiations) Subnegotiations.Add([.. _sb]); _state = 0; }
                            break;
                    }
                }
                if (o > 0) return o;
            }
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct) =>
            ReadAsync(buffer.AsMemory(offset, count), ct).AsTask();

        public override void Write(byte[] buffer, int offset, int count)
        {
            var o = new List<byte>();
            foreach (var b in buffer.AsSpan(offset, count)) { o.Add(b); if (b == 255) o.Add(255); }
            net.Write(o.ToArray());
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long o, SeekOrigin s) => throw new NotSupportedException();
        public override void SetLength(long v) => throw new NotSupportedException();
    }

    private const byte DtrOn = 8, DtrOff = 9, RtsOn = 11, RtsOff = 12;

    private static (VirtualChip, Rfc2217Server, TcpClient, TelnetStream) Rfc(bool startInDownload)
    {
        var chip = Chips.New("esp32", o => o with { PrintBootBanner = true, StartInDownloadMode = startInDownload });
        var server = new Rfc2217Server(chip);
        var client = new TcpClient("127.0.0.1", server.Port);
        var ts = new TelnetStream(client.GetStream());
        ts.Send(255, 251, 44); // WILL COM-PORT-OPTION
        ts.Send(255, 250, 44, 1, 0, 1, 0xC2, 0x00, 255, 240); // SET-BAUDRATE 115200
        return (chip, server, client, ts);
    }

    [Fact]
    public void Rfc2217_classic_reset_sequence_enters_the_bootloader()
    {
        var (chip, server, client, ts) = Rfc(startInDownload: false);
        using (chip) using (server) using (client)
        {
            var link = new TestLink(ts);
            // Classic: D=F; R=T; wait 0.1; D=T; R=F; wait 0.05; D=F
            ts.SetControl(DtrOff); ts.SetControl(RtsOn);
            Thread.Sleep(100);
            ts.SetControl(DtrOn); ts.SetControl(RtsOff);
            Thread.Sleep(50);
            ts.SetControl(DtrOff);
            var banner = Encoding.Latin1.GetString(link.ReadUntil("waiting for download"));
            Assert.True(banner.Contains("boot:0x3 (DOWNLOAD_BOOT", StringComparison.Ordinal), $"banner was '{banner}' mode {chip.Mode}");
            Assert.Contains("boot:0x3 (DOWNLOAD_BOOT(UART0/UART1/SDIO_REI_REO_V2))", banner);
            Assert.Contains("waiting for download", banner);
            Assert.Equal(ChipMode.RomLoader, chip.Mode);
            Assert.Equal(8, link.Sync().Count);
            lock (ts.Subnegotiations)
                Assert.Contains(ts.Subnegotiations, s => s.Length >= 3 && s[0] == 44 && s[1] == 105); // server answers 100+
            Assert.Equal(115200, chip.ChipBaud);
        }
    }

    [Fact]
    public void Rfc2217_wrong_sequence_boots_the_app_and_stays_silent()
    {
        var (chip, server, client, ts) = Rfc(startInDownload: true);
        using (chip) using (server) using (client)
        {
            var link = new TestLink(ts);
            // Only RTS pulsed, DTR never asserted: IO0 stays high when EN rises.
            ts.SetControl(DtrOff); ts.SetControl(RtsOn);
            Thread.Sleep(100);
            ts.SetControl(RtsOff);
            var banner = Encoding.Latin1.GetString(link.ReadUntil("boot:0x13 (SPI_FAST_FLASH_BOOT)"));
            Assert.Contains("boot:0x13 (SPI_FAST_FLASH_BOOT)", banner);
            Assert.Equal(ChipMode.BootedApp, chip.Mode);
            link.SendPacket(TestLink.Command(0x08, TestLink.SyncPayload));
            Assert.Throws<TimeoutException>(() => link.ReadFrame(300));
        }
    }

    [Fact]
    public void Set_lines_unix_tight_sequence_enters_the_bootloader_in_process()
    {
        using var chip = Chips.New("esp32c3", o => o with { StartInDownloadMode = false, ResetCapacitorDelay = TimeSpan.FromMilliseconds(5) });
        using var link = new TestLink(chip.OpenHostStream());
        chip.SetLines(false, false); chip.SetLines(true, true); chip.SetLines(false, true);
        Assert.Equal(ChipMode.InReset, chip.Mode);
        chip.SetLines(true, false);
        var deadline = Environment.TickCount64 + 2000;
        while (chip.Mode != ChipMode.RomLoader && Environment.TickCount64 < deadline) Thread.Sleep(5);
        chip.SetLines(false, false);
        Assert.Equal(ChipMode.RomLoader, chip.Mode);
        Assert.Equal(8, link.Sync().Count);
    }
}
