using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Esp.Protocol.Transport;

namespace Esp.Cli.Tests.Device;

/// <summary>One command on several boards: --port given twice, a ';' list or 'all', on virtual chips.</summary>
public class MultiBoardTests : IDisposable
{
    private const string NoListener = "socket://127.0.0.1:1";

    private readonly CliRunner _cli = new();
    private readonly SimChip _esp32;
    private readonly SimChip _esp32c3;

    public MultiBoardTests()
    {
        _esp32 = new SimChip(_cli, "esp32", "&mac=24:0a:c4:00:00:01");
        _esp32c3 = new SimChip(_cli, "esp32c3", "&mac=58:cf:79:00:00:02");
    }

    public void Dispose() => _cli.Dispose();

    private static void Ok(CliRun r) => Assert.True(r.ExitCode == 0, r.ToString());

    private static JsonElement[] Boards(CliRun r) => [.. r.Json.GetProperty("boards").EnumerateArray()];

    /// <summary>An image that compresses well (so the write sends it compressed) and is not all one byte.</summary>
    private static byte[] App()
    {
        var text = string.Concat(Enumerable.Range(0, 6000).Select(i => $"line {i % 97} of the application;"));
        return Encoding.ASCII.GetBytes(text);
    }

    [Fact]
    public async Task WriteFlashOnTwoChipsWritesBothCompressingOnce()
    {
        var app = App();
        _cli.WriteFile("app.bin", app);

        var r = await _cli.RunAsync("--port", _esp32.Port, "--port", _esp32c3.Port, "--json", "write_flash", "0x10000", "app.bin");
        Ok(r);
        var boards = Boards(r);
        Assert.Equal([_esp32.Port, _esp32c3.Port], boards.Select(b => b.GetProperty("port").GetString()));
        Assert.Equal(["esp32", "esp32c3"], boards.Select(b => b.GetProperty("chip").GetString()));
        Assert.Equal(["ESP32", "ESP32-C3"], boards.Select(b => b.GetProperty("chipName").GetString()));
        // Every board is named by its factory MAC, whatever the command reads.
        Assert.Equal(["24:0a:c4:00:00:01", "58:cf:79:00:00:02"], boards.Select(b => b.GetProperty("mac").GetString()));
        foreach (var b in boards)
        {
            Assert.Equal("succeeded", b.GetProperty("outcome").GetString());
            Assert.Equal(app.Length, b.GetProperty("bytesWritten").GetInt64());
            Assert.Equal(0, b.GetProperty("resumes").GetInt32());
            var file = b.GetProperty("files").EnumerateArray().Single();
            Assert.True(file.GetProperty("compressed").GetBoolean());
            Assert.True(file.GetProperty("verified").GetBoolean());
            Assert.Equal(Esp.Protocol.Operations.FlashMd5.Of(app), file.GetProperty("md5").GetString());
        }
        Assert.Equal(2, r.Json.GetProperty("succeeded").GetInt32());
        Assert.Equal(0, r.Json.GetProperty("failed").GetInt32());
        // The same bytes for both boards: compressed once, sent to each.
        Assert.Equal(1, r.Json.GetProperty("compressedImages").GetInt32());
        Assert.Equal(app, _esp32.Flash()[0x10000..(0x10000 + app.Length)]);
        Assert.Equal(app, _esp32c3.Flash()[0x10000..(0x10000 + app.Length)]);

        // Each board on its own holds the image, as a single-port verify_flash says.
        foreach (var sim in new[] { _esp32, _esp32c3 })
        {
            var verify = await sim.RunAsync("verify_flash", "0x10000", "app.bin");
            Ok(verify);
            Assert.Contains("Verification successful", verify.Stdout);
            Assert.DoesNotContain("[sim:", verify.Stdout);
        }
    }

    [Fact]
    public async Task SkipUnchangedOnTwoBoardsWritesNothingTheSecondTime()
    {
        var app = App();
        _cli.WriteFile("app.bin", app);
        Ok(await _cli.RunAsync("--port", $"{_esp32.Port};{_esp32c3.Port}", "write_flash", "0x10000", "app.bin"));

        var r = await _cli.RunAsync("--port", _esp32.Port, "--port", _esp32c3.Port, "--json", "write_flash", "--skip-unchanged", "0x10000", "app.bin");
        Ok(r);
        foreach (var b in Boards(r))
        {
            Assert.Equal(0, b.GetProperty("bytesWritten").GetInt64());
            var file = b.GetProperty("files").EnumerateArray().Single();
            Assert.True(file.GetProperty("unchanged").GetBoolean());
            Assert.Equal(0, file.GetProperty("rewrittenBytes").GetInt64());
        }

        var text = await _cli.RunAsync("--port", _esp32.Port, "--port", _esp32c3.Port, "write_flash", "--skip-unchanged", "0x10000", "app.bin");
        Ok(text);
        Assert.Contains($"[{_esp32.Port}] app.bin at 0x00010000: unchanged (the chip's MD5 matches), nothing written.", text.Stdout);
        Assert.Contains($"[{_esp32c3.Port}] app.bin at 0x00010000: unchanged (the chip's MD5 matches), nothing written.", text.Stdout);
        Assert.Matches(@$"(?m)^{Regex(_esp32c3.Port)}\s+ESP32-C3\s+58:cf:79:00:00:02\s+ok\s+0\s+0\s+\d+\.\d s\s*$", text.Stdout);
        Assert.Equal(app, _esp32c3.Flash()[0x10000..(0x10000 + app.Length)]);
    }

    [Fact]
    public async Task OneBoardFailingDoesNotStopTheOther()
    {
        var app = App();
        _cli.WriteFile("app.bin", app);

        var r = await _cli.RunAsync("--port", _esp32c3.Port, "--port", NoListener, "--connect-attempts", "1", "--json", "write_flash", "0x10000", "app.bin");
        Assert.Equal(1, r.ExitCode);
        Assert.False(r.Json.GetProperty("ok").GetBoolean());
        Assert.Equal(1, r.Json.GetProperty("succeeded").GetInt32());
        Assert.Equal(1, r.Json.GetProperty("failed").GetInt32());
        var (good, bad) = (Boards(r)[0], Boards(r)[1]);
        Assert.Equal("succeeded", good.GetProperty("outcome").GetString());
        Assert.Equal(app.Length, good.GetProperty("bytesWritten").GetInt64());
        Assert.Equal("failed", bad.GetProperty("outcome").GetString());
        Assert.Equal(NoListener, bad.GetProperty("port").GetString());
        Assert.Equal(JsonValueKind.Null, bad.GetProperty("chip").ValueKind);
        var error = bad.GetProperty("error");
        Assert.Matches("^ESP2\\d{3}$", error.GetProperty("code").GetString());
        Assert.Contains("127.0.0.1:1", error.GetProperty("message").GetString());
        Assert.False(good.TryGetProperty("error", out _));
        Assert.Equal(app, _esp32c3.Flash()[0x10000..(0x10000 + app.Length)]);
        // stderr names the board that failed, with its code.
        Assert.Matches(@$"(?m)^\[{Regex(NoListener)}\] error ESP2\d{{3}}: ", r.Stderr);
    }

    [Fact]
    public async Task ReadMacWithAPortListShowsATableWithEveryMac()
    {
        var r = await _cli.RunAsync("--port", $"{_esp32.Port};{_esp32c3.Port}", "read_mac");
        Ok(r);
        Assert.Contains($"[{_esp32.Port}] MAC: 24:0a:c4:00:00:01", r.Stdout);
        Assert.Contains($"[{_esp32c3.Port}] MAC: 58:cf:79:00:00:02", r.Stdout);
        var lines = r.Stdout.Split('\n', StringSplitOptions.TrimEntries);
        int header = Array.FindIndex(lines, l => l.StartsWith("board ", StringComparison.Ordinal));
        Assert.True(header >= 0, r.ToString());
        Assert.Matches(@"^board\s+chip\s+MAC\s+result\s+written\s+resumes\s+time\s+error$", lines[header]);
        Assert.Matches(@$"^{Regex(_esp32.Port)}\s+ESP32\s+24:0a:c4:00:00:01\s+ok\s+-\s+0\s+\d+\.\d s$", lines[header + 1]);
        Assert.Matches(@$"^{Regex(_esp32c3.Port)}\s+ESP32-C3\s+58:cf:79:00:00:02\s+ok\s+-\s+0\s+\d+\.\d s$", lines[header + 2]);
        Assert.Equal("2 boards: 2 ok.", lines[header + 3]);
        Assert.Equal("", r.Stderr);
    }

    [Fact]
    public async Task VerifyFlashOnTwoBoardsNamesTheOneThatDiffers()
    {
        var app = App();
        _cli.WriteFile("app.bin", app);
        _esp32.Preload(0x10000, app);
        var changed = (byte[])app.Clone();
        changed[100] ^= 0xFF;
        _esp32c3.Preload(0x10000, changed);

        var r = await _cli.RunAsync("--port", _esp32.Port, "--port", _esp32c3.Port, "--json", "verify_flash", "0x10000", "app.bin");
        Assert.Equal(1, r.ExitCode);
        var (same, differs) = (Boards(r)[0], Boards(r)[1]);
        Assert.True(same.GetProperty("matched").GetBoolean());
        Assert.Equal("failed", differs.GetProperty("outcome").GetString());
        Assert.False(differs.GetProperty("matched").GetBoolean());
        Assert.Equal("ESP4001", differs.GetProperty("error").GetProperty("code").GetString());
        Assert.Equal("esp32c3", differs.GetProperty("chip").GetString());
    }

    [Fact]
    public async Task EraseRegionOnTwoBoardsErasesBoth()
    {
        var app = App();
        _esp32.Preload(0x10000, app);
        _esp32c3.Preload(0x10000, app);
        // On a terminal too, several boards print plain prefixed lines: no bars, no escape codes.
        _cli.IsTerminal = true;
        var r = await _cli.RunAsync("--port", _esp32.Port, "--port", _esp32c3.Port, "erase_region", "0x10000", "0x4000");
        Ok(r);
        Assert.Contains($"[{_esp32c3.Port}] Erase completed successfully", r.Stdout);
        Assert.Contains($"[{_esp32.Port}] Erasing at 0x000", r.Stdout);
        Assert.DoesNotContain("\u001b[", r.Stdout, StringComparison.Ordinal);
        foreach (var sim in new[] { _esp32, _esp32c3 })
        {
            Assert.All(sim.Flash()[0x10000..0x14000], b => Assert.Equal(0xFF, b));
            Assert.Equal(app[0x4000..], sim.Flash()[0x14000..(0x10000 + app.Length)]);
        }
    }

    [Fact]
    public async Task EachBoardResumesItsOwnWrite()
    {
        // One board's link drops mid-write; the other's does not. The board that resumed must write what it still
        // lacks, whatever the other board has done.
        await using var dropping = new KeptChip("sim:esp32c3?disconnect-after=100000");
        await using var steady = new KeptChip("sim:esp32");
        var app = TestImages.Bytes(256 * 1024, 51);
        var data = TestImages.Bytes(40_000, 52);
        _cli.WriteFile("app.bin", app);
        _cli.WriteFile("data.bin", data);

        var r = await _cli.RunAsync("--port", dropping.Port, "--port", steady.Port, "--json", "write_flash", "-u", "0x10000", "app.bin", "0x100000", "data.bin");
        Ok(r);
        var (resumed, straight) = (Boards(r)[0], Boards(r)[1]);
        Assert.InRange(resumed.GetProperty("resumes").GetInt32(), 1, 2);
        Assert.True(resumed.GetProperty("files").EnumerateArray().Single(f => f.GetProperty("file").GetString() == "app.bin").GetProperty("resumed").GetBoolean());
        Assert.InRange(resumed.GetProperty("bytesWritten").GetInt64(), data.Length + 1, app.Length + data.Length - 1);
        Assert.Equal(0, straight.GetProperty("resumes").GetInt32());
        Assert.Equal(app.Length + data.Length, straight.GetProperty("bytesWritten").GetInt64());
        foreach (var chip in new[] { dropping.Chip, steady.Chip })
        {
            Assert.Equal(app, chip.Flash.Read(0x10000, app.Length));
            Assert.Equal(data, chip.Flash.Read(0x100000, data.Length));
        }
    }

    [Theory]
    [InlineData("read_flash", "0", "16", "out.bin")]
    [InlineData("read_mem", "0x3ff5a000")]
    [InlineData("monitor")]
    public async Task ACommandForOneBoardRefusesSeveralPorts(params string[] command)
    {
        var r = await _cli.RunAsync([.. new[] { "--port", _esp32.Port, "--port", _esp32c3.Port }, .. command]);
        Assert.Equal(2, r.ExitCode);
        Assert.StartsWith("error ESP1001: ", r.Stderr);
        Assert.Contains($"{command[0]} takes one port (2 were given); only write_flash, verify_flash, erase_flash, erase_region, read_mac, chip_id, flash_id run",
            r.Stderr);
        Assert.Contains($"usage: dotnet esp [options] {command[0]}", r.Stderr);
        Assert.Equal("", r.Stdout);
        Assert.False(File.Exists(_esp32.StatePath));
    }

    [Fact]
    public async Task TheSamePortTwiceIsRefused()
    {
        var r = await _cli.RunAsync("--json", "--port", $"{_esp32.Port};{_esp32c3.Port}", "--port", _esp32.Port, "read_mac");
        Assert.Equal(2, r.ExitCode);
        Assert.Equal("ESP1023", r.Json.GetProperty("error").GetProperty("code").GetString());
        Assert.Contains($"The port {_esp32.Port} is listed 2 times.", r.Stderr);
    }

    [Fact]
    public async Task AllMeansEveryEspBridgeTheHostLists()
    {
        _cli.Ports.Add(new SerialPortInfo(_esp32.Port, 0x10C4, 0xEA60));
        _cli.Ports.Add(new SerialPortInfo("/dev/ttyS0"));
        _cli.Ports.Add(new SerialPortInfo(_esp32c3.Port, 0x1A86, 0x55D4));
        var r = await _cli.RunAsync("--port", "all", "--json", "chip_id");
        Ok(r);
        var boards = Boards(r);
        Assert.Equal([_esp32.Port, _esp32c3.Port], boards.Select(b => b.GetProperty("port").GetString()));
        Assert.Equal(["24:0a:c4:00:00:01", "58:cf:79:00:00:02"], boards.Select(b => b.GetProperty("mac").GetString()));
        Assert.Equal(["esp32", "esp32c3"], boards.Select(b => b.GetProperty("chip").GetString()));
    }

    [Fact]
    public async Task AllWithNoBridgeIsACodedError()
    {
        _cli.Ports.Add(new SerialPortInfo("/dev/ttyS0"));
        var r = await _cli.RunAsync("--port", "all", "read_mac");
        Assert.Equal(1, r.ExitCode);
        Assert.StartsWith("error ESP2003: The port list says 'all', but no ESP USB bridge", r.Stderr);
    }

    [Fact]
    public async Task APortListOfOneRunsAsASingleBoard()
    {
        var r = await _cli.RunAsync("--port", _esp32.Port + ";", "read_mac");
        Ok(r);
        Assert.Contains("\nMAC: 24:0a:c4:00:00:01", "\n" + r.Stdout);
        Assert.DoesNotContain("[sim:", r.Stdout);
        Assert.DoesNotContain("board", r.Stdout);
    }

    [Fact]
    public async Task StopOnFirstErrorLeavesTheRestUnstarted()
    {
        var r = await _cli.RunAsync("--port", NoListener, "--port", _esp32.Port, "--max-parallel", "1", "--stop-on-first-error",
            "--connect-attempts", "1", "--json", "read_mac");
        Assert.Equal(1, r.ExitCode);
        Assert.Equal(["failed", "notStarted"], Boards(r).Select(b => b.GetProperty("outcome").GetString()));
        Assert.Equal(1, r.Json.GetProperty("notStarted").GetInt32());
        Assert.False(File.Exists(_esp32.StatePath));
    }

    [Fact]
    public async Task WithoutStopOnFirstErrorAOneAtATimeRunReachesEveryBoard()
    {
        var r = await _cli.RunAsync("--port", NoListener, "--port", _esp32.Port, "--max-parallel", "1", "--connect-attempts", "1", "--json", "read_mac");
        Assert.Equal(1, r.ExitCode);
        Assert.Equal(["failed", "succeeded"], Boards(r).Select(b => b.GetProperty("outcome").GetString()));
        Assert.Equal("24:0a:c4:00:00:01", Boards(r)[1].GetProperty("mac").GetString());
    }

    [Fact]
    public async Task CtrlCReportsEveryBoardAsCancelledOrNotStarted()
    {
        // Peers that accept and never answer: each board keeps trying to sync until cancelled.
        using var a = new TcpListener(IPAddress.Loopback, 0);
        using var b = new TcpListener(IPAddress.Loopback, 0);
        a.Start();
        b.Start();
        string PortOf(TcpListener l) => $"socket://127.0.0.1:{((IPEndPoint)l.LocalEndpoint).Port}";
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(700));
        var r = await _cli.RunAsync(cts.Token, "--port", PortOf(a), "--port", PortOf(b), "--max-parallel", "1", "--connect-attempts", "0", "--json", "read_mac");
        Assert.Equal(130, r.ExitCode);
        Assert.Equal(["cancelled", "notStarted"], Boards(r).Select(x => x.GetProperty("outcome").GetString()));
        Assert.Equal("ESP9001", Boards(r)[0].GetProperty("error").GetProperty("code").GetString());
        Assert.StartsWith("cancelled: 0 ok, 1 cancelled, 1 not started.", r.Stderr);
        Assert.DoesNotContain("   at ", r.Stderr);
    }

    [Fact]
    public async Task BadMaxParallelIsAUsageError()
    {
        var r = await _cli.RunAsync("--port", _esp32.Port, "--port", _esp32c3.Port, "--max-parallel", "some", "read_mac");
        Assert.Equal(2, r.ExitCode);
        Assert.StartsWith("error ESP1002: 'some' is not a valid number of boards at once (--max-parallel)", r.Stderr);
    }

    private static string Regex(string text) => System.Text.RegularExpressions.Regex.Escape(text);
}
