using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using Esp.Protocol.Chips;
using Esp.Protocol.Images;

namespace Esp.Cli.Tests.Device;

/// <summary>
/// dotnet esp monitor against the virtual chip. The boot text expected here is what Espressif's QEMU printed with the
/// real ESP32 (v3) and ESP32-C3 ROMs, SPI boot strap, for a flash holding the same bootloader header.
/// </summary>
public class MonitorCommandTests : IDisposable
{
    private const string Esp32Boot =
        "ets Jul 29 2019 12:21:46\r\n\r\nrst:0x1 (POWERON_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)\r\n" +
        "configsip: 0, SPIWP:0xee\r\nclk_drv:0x00,q_drv:0x00,d_drv:0x00,cs0_drv:0x00,hd_drv:0x00,wp_drv:0x00\r\n" +
        "mode:DIO, clock div:2\r\nload:0x40080400,len:16\r\nload:0x3ffb0000,len:32\r\nentry 0x40080400\r\n";

    private const string Esp32C3Boot =
        "ESP-ROM:esp32c3-api1-20210207\r\nBuild:Feb  7 2021\r\nrst:0x1 (POWERON),boot:0xc (SPI_FAST_FLASH_BOOT)\r\n" +
        "SPIWP:0xee\r\nmode:DIO, clock div:2\r\nload:0x40380400,len:0x10\r\nload:0x3fc90000,len:0x20\r\nentry 0x40380400\r\n";

    private const string Esp32C3Erased =
        "ESP-ROM:esp32c3-api1-20210207\r\nBuild:Feb  7 2021\r\nrst:0x1 (POWERON),boot:0xc (SPI_FAST_FLASH_BOOT)\r\ninvalid header: 0xffffffff\r\n";

    private readonly CliRunner _cli = new();
    public void Dispose() => _cli.Dispose();

    /// <summary>A bootloader image (DIO, 40 MHz, WP pin unused) with a 16-byte IRAM and a 32-byte DRAM segment.</summary>
    private static byte[] Bootloader(ChipDefinition chip, uint iram, uint dram)
    {
        var image = EspImage.Create(chip);
        image.Entry = iram;
        image.Segments.Add(new ImageSegment(iram, new byte[16]));
        image.Segments.Add(new ImageSegment(dram, new byte[32]));
        return image.ToBytes();
    }

    private static string AsPrinted(string chipText) => chipText.Replace("\r\n", Environment.NewLine, StringComparison.Ordinal);

    [Theory]
    [InlineData("esp32", "0x1000", 0x40080400u, 0x3FFB0000u, Esp32Boot)]
    [InlineData("esp32c3", "0x0", 0x40380400u, 0x3FC90000u, Esp32C3Boot)]
    public async Task AfterWriteFlashTheMonitorShowsTheRomLoadingTheBootloader(string chipKey, string address, uint iram, uint dram, string expected)
    {
        var sim = new SimChip(_cli, chipKey);
        _cli.WriteFile("boot.bin", Bootloader(ChipDatabase.Get(chipKey), iram, dram));
        var w = await sim.RunAsync("write_flash", address, "boot.bin");
        Assert.True(w.ExitCode == 0, w.ToString());

        var r = await sim.RunAsync("monitor", "--until", $"entry 0x{iram:x8}", "--timeout", "30", "--log", "boot.log");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal(AsPrinted(expected).TrimEnd(), r.Stdout.TrimEnd());
        var log = Encoding.Latin1.GetString(File.ReadAllBytes(_cli.PathOf("boot.log")));
        Assert.StartsWith(expected.TrimEnd(), log, StringComparison.Ordinal);
        Assert.Contains($"--- found \"entry 0x{iram:x8}\"", r.Stderr);
        Assert.DoesNotContain("error", r.Stderr);
    }

    [Fact]
    public async Task ErasedFlashShowsInvalidHeaderWithTimestamps()
    {
        var sim = new SimChip(_cli, "esp32c3");
        var r = await sim.RunAsync("monitor", "--timestamps", "--until", "invalid header", "--timeout", "30");
        Assert.True(r.ExitCode == 0, r.ToString());
        var lines = r.Stdout.TrimEnd().Split(Environment.NewLine);
        var expected = Esp32C3Erased.TrimEnd().Split("\r\n");
        Assert.Equal(expected.Length, lines.Length);
        for (int i = 0; i < lines.Length; i++)
        {
            Assert.Matches(@"^\[\d\d:\d\d:\d\d\.\d\d\d\] ", lines[i]);
            Assert.Equal(expected[i], lines[i][15..]);
        }
    }

    [Fact]
    public async Task TextThatNeverAppearsFailsWithACodedErrorAfterTheTimeout()
    {
        var sim = new SimChip(_cli, "esp32");
        var r = await sim.RunAsync("monitor", "--until", "Hello from the app", "--timeout", "1");
        Assert.Equal(1, r.ExitCode);
        Assert.StartsWith("error ESP2016: 'Hello from the app' did not appear within 1 s", r.Stderr.Split('\n').First(l => l.StartsWith("error", StringComparison.Ordinal)));
        Assert.Contains("invalid header: 0xffffffff", r.Stdout); // what was seen is still shown
    }

    [Fact]
    public async Task NoResetListensWithoutTouchingTheChipAndATimeoutEndsTheCapture()
    {
        // The chip waits in its ROM loader and prints nothing; without --until, running out of time is the end, not a failure.
        var sim = new SimChip(_cli, "esp32");
        var r = await sim.RunAsync("--json", "monitor", "--no-reset", "--timeout", "0.5");
        Assert.True(r.ExitCode == 0, r.ToString());
        var j = r.Json;
        Assert.Equal("TimedOut", j.GetProperty("outcome").GetString());
        Assert.False(j.GetProperty("reset").GetBoolean());
        Assert.Equal(0, j.GetProperty("bytes").GetInt32());
        Assert.Equal(115200, j.GetProperty("baud").GetInt32());
    }

    [Fact]
    public async Task JsonSummarySaysWhatMatchedAndKeepsTheLastLines()
    {
        var sim = new SimChip(_cli, "esp32");
        var r = await sim.RunAsync("--json", "monitor", "--until", "invalid header", "--timeout", "30");
        Assert.True(r.ExitCode == 0, r.ToString());
        var j = r.Json;
        Assert.True(j.GetProperty("ok").GetBoolean());
        Assert.True(j.GetProperty("matched").GetBoolean());
        Assert.Equal("invalid header: 0xffffffff", j.GetProperty("matchedLine").GetString());
        Assert.True(j.GetProperty("reset").GetBoolean());
        var tail = j.GetProperty("tail").EnumerateArray().Select(e => e.GetString()).ToList();
        Assert.Equal("rst:0x1 (POWERON_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)", tail[2]);
    }

    [Fact]
    public async Task CtrlRightBracketAtTheTerminalQuits()
    {
        var pressed = new TaskCompletionSource<ConsoleKeyInfo>();
        _cli.ReadKey = ct => pressed.Task.WaitAsync(ct);
        var sim = new SimChip(_cli, "esp32");
        var run = sim.RunAsync("monitor");
        for (int i = 0; i < 300 && !_cli.LiveStdout.Contains("invalid header", StringComparison.Ordinal); i++) await Task.Delay(100);
        pressed.SetResult(new ConsoleKeyInfo('\x1d', ConsoleKey.Oem6, shift: false, alt: false, control: true));
        var r = await run.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("Ctrl+C or Ctrl+] quits", r.Stderr);
        Assert.Contains("--- quit ---", r.Stderr);
        Assert.Contains("invalid header: 0xffffffff", r.Stdout);
    }

    [Fact]
    public async Task CtrlCEndsAMonitorThatWaitsForNothing()
    {
        var sim = new SimChip(_cli, "esp32");
        using var ctrlC = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        var r = await _cli.RunAsync(ctrlC.Token, "--port", sim.Port, "monitor");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("invalid header", r.Stdout);

        // While it still waits for a text, Ctrl+C is a cancellation (130).
        using var again = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        var waiting = await _cli.RunAsync(again.Token, "--port", sim.Port, "monitor", "--until", "never");
        Assert.Equal(130, waiting.ExitCode);
    }

    [Fact]
    public async Task APortWithoutLineControlIsMonitoredWithAWarning()
    {
        using var server = new TcpListener(IPAddress.Loopback, 0);
        server.Start();
        var port = ((IPEndPoint)server.LocalEndpoint).Port;
        var chip = Task.Run(async () =>
        {
            using var client = await server.AcceptTcpClientAsync();
            var s = client.GetStream();
            byte[] output = [.. "I (312) app: hello\r\n"u8, 0xFF, 0x01, .. "ready> "u8];
            await s.WriteAsync(output);
            await Task.Delay(5000);
        });
        var r = await _cli.RunAsync("--port", $"socket://127.0.0.1:{port}", "monitor", "--until", "ready>", "--timeout", "30");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("warning: The port 'socket://127.0.0.1:", r.Stderr);
        Assert.Contains("cannot drive DTR/RTS, so the chip was not reset", r.Stderr);
        Assert.Equal($"I (312) app: hello{Environment.NewLine}\\xff\\x01ready> ", r.Stdout);
    }

    [Fact]
    public async Task BadTimeoutIsAUsageError()
    {
        var r = await _cli.RunAsync("--port", "sim:esp32", "monitor", "--timeout", "soon");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--timeout 'soon'", r.Stderr);
        Assert.True(Regex.IsMatch(r.Stderr, "usage: dotnet esp \\[options\\] monitor"), r.ToString());
    }
}
