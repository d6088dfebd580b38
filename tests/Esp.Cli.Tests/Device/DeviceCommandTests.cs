using Esp.Protocol.Images;

namespace Esp.Cli.Tests.Device;

/// <summary>Every chip command, run in-process against the virtual chip, checking text, --json, exit codes and the chip afterwards.</summary>
public class DeviceCommandTests : IDisposable
{
    private readonly CliRunner _cli = new();
    private readonly SimChip _sim;

    public DeviceCommandTests() => _sim = new SimChip(_cli);

    public void Dispose() => _cli.Dispose();

    private static void Ok(CliRun r) => Assert.True(r.ExitCode == 0, r.ToString());

    [Fact]
    public async Task WriteFlashWritesTheStateFileAndReportsVerifiedHash()
    {
        var data = TestImages.Bytes(10_000, 1);
        _cli.WriteFile("data.bin", data);
        var r = await _sim.RunAsync("write_flash", "0x1000", "data.bin");
        Ok(r);
        Assert.Contains("Hash of data verified", r.Stdout);
        Assert.Equal(data, _sim.Flash()[0x1000..(0x1000 + data.Length)]);
        Assert.Equal("", r.Stderr);
    }

    [Theory]
    [InlineData("esp32")]
    [InlineData("esp32c3")]
    [InlineData("esp8266")]
    public async Task WriteFlashRunsTheShippedStubByDefault(string chip)
    {
        // No --stub-file: the stub embedded in the tool is uploaded, so even the ESP8266 (whose ROM cannot hash
        // flash) ends with the chip's MD5 checked.
        var sim = new SimChip(_cli, chip);
        var data = TestImages.Bytes(70_000, 11);
        _cli.WriteFile("app.bin", data);
        var r = await sim.RunAsync("write_flash", "0", "app.bin");
        Ok(r);
        Assert.Contains($"Running the flasher stub ({chip}.json", r.Stdout);
        Assert.Contains("Stub running.", r.Stdout);
        Assert.Contains("Hash of data verified", r.Stdout);
        Assert.Equal(data, sim.Flash()[..data.Length]);
    }

    [Fact]
    public async Task NoStubTalksToTheRomLoader()
    {
        var data = TestImages.Bytes(5000, 12);
        _cli.WriteFile("app.bin", data);
        var r = await _sim.RunAsync("--no-stub", "write_flash", "0x10000", "app.bin");
        Ok(r);
        Assert.DoesNotContain("stub", r.Stdout, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("Hash of data verified", r.Stdout);
        Assert.Equal(data, _sim.Flash()[0x10000..(0x10000 + data.Length)]);

        // The ESP8266 ROM cannot hash flash: without the stub the write cannot be checked, and the error says how.
        var esp8266 = new SimChip(_cli, "esp8266");
        var bad = await esp8266.RunAsync("--no-stub", "write_flash", "0", "app.bin");
        Assert.Equal(1, bad.ExitCode);
        Assert.Contains("ESP3003", bad.Stderr);
        Assert.Contains("leave out --no-stub", bad.Stderr);
    }

    [Fact]
    public async Task WriteFlashSeveralFilesWithJson()
    {
        var a = TestImages.Bytes(3000, 2);
        var b = TestImages.Bytes(5000, 3);
        _cli.WriteFile("a.bin", a);
        _cli.WriteFile("b.bin", b);
        var r = await _sim.RunAsync("write-flash", "--json", "0x10000", "a.bin", "0x20000", "b.bin");
        Ok(r);
        var j = r.Json;
        Assert.True(j.GetProperty("ok").GetBoolean());
        Assert.Equal("esp32", j.GetProperty("chip").GetString());
        Assert.Equal(2, j.GetProperty("files").GetArrayLength());
        Assert.All(j.GetProperty("files").EnumerateArray(), f => Assert.True(f.GetProperty("verified").GetBoolean()));
        var flash = _sim.Flash();
        Assert.Equal(a, flash[0x10000..(0x10000 + a.Length)]);
        Assert.Equal(b, flash[0x20000..(0x20000 + b.Length)]);
    }

    [Fact]
    public async Task WriteFlashEraseAllClearsTheRest()
    {
        _sim.Preload(0x30000, TestImages.Bytes(64, 9));
        _cli.WriteFile("a.bin", TestImages.Bytes(100, 4));
        Ok(await _sim.RunAsync("write_flash", "--erase-all", "0x0", "a.bin"));
        Assert.All(_sim.Flash()[0x30000..0x30040], x => Assert.Equal(0xFF, x));
    }

    [Fact]
    public async Task WriteFlashPatchesBootloaderHeader()
    {
        var app = TestImages.RamApp();
        _cli.WriteFile("boot.bin", app);
        Ok(await _sim.RunAsync("write_flash", "--flash-mode", "dout", "--flash-size", "detect", "0x1000", "boot.bin"));
        var written = EspImage.Parse(_sim.Flash().AsSpan(0x1000, app.Length), Esp.Protocol.Chips.ChipDatabase.Esp32);
        Assert.Equal(FlashMode.Dout, written.FlashMode);
        Assert.Equal("4MB", written.FlashSizeName(Esp.Protocol.Chips.ChipDatabase.Esp32));
        Assert.True(written.Sha256Valid != false);

        // verify_flash applies the same patch, so the patched header is not a false mismatch…
        Ok(await _sim.RunAsync("verify_flash", "--flash-mode", "dout", "--flash-size", "detect", "0x1000", "boot.bin"));
        // …and without it the header really differs.
        var plain = await _sim.RunAsync("verify_flash", "--diff", "yes", "0x1000", "boot.bin");
        Assert.Equal(1, plain.ExitCode);
        Assert.Contains("0x00001002", plain.Stdout);
    }

    [Fact]
    public async Task ReadFlashReadsWhatTheStateFileHolds()
    {
        var data = TestImages.Bytes(5000, 5);
        _sim.Preload(0x8000, data);
        var r = await _sim.RunAsync("read_flash", "0x8000", "5000", "out.bin", "--json");
        Ok(r);
        Assert.Equal(data, File.ReadAllBytes(_cli.PathOf("out.bin")));
        Assert.Equal(5000, r.Json.GetProperty("size").GetInt32());
        Assert.Equal(Esp.Protocol.Operations.FlashMd5.Of(data), r.Json.GetProperty("md5").GetString());
    }

    [Fact]
    public async Task VerifyFlashMatches()
    {
        var data = TestImages.Bytes(4096, 6);
        _sim.Preload(0x1000, data);
        _cli.WriteFile("d.bin", data);
        var r = await _sim.RunAsync("verify_flash", "0x1000", "d.bin");
        Ok(r);
        Assert.Contains("verify OK", r.Stdout);
        var j = (await _sim.RunAsync("verify-flash", "--diff", "yes", "--json", "0x1000", "d.bin")).Json;
        Assert.True(j.GetProperty("matched").GetBoolean());
    }

    [Fact]
    public async Task VerifyFlashDiffShowsRangesNotBytes()
    {
        var data = TestImages.Bytes(8192, 7);
        var flash = (byte[])data.Clone();
        for (int i = 0x100; i < 0x140; i++) flash[i] ^= 0x5A;   // one 64-byte range
        flash[0x1000] ^= 1;                                    // one byte
        _sim.Preload(0x10000, flash);
        _cli.WriteFile("d.bin", data);

        var r = await _sim.RunAsync("verify_flash", "--diff", "yes", "0x10000", "d.bin");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("verify FAILED", r.Stdout);
        Assert.Contains("2 differing ranges, 65 bytes", r.Stdout);
        Assert.Contains("0x00010100..0x0001013f", r.Stdout);
        Assert.Contains("0x00011000..0x00011000", r.Stdout);
        Assert.StartsWith("error ESP4001:", r.Stderr);

        var j = (await _sim.RunAsync("verify_flash", "--diff", "--json", "0x10000", "d.bin"));
        Assert.Equal(1, j.ExitCode);
        var doc = j.Json;
        Assert.False(doc.GetProperty("ok").GetBoolean());
        Assert.Equal("ESP4001", doc.GetProperty("error").GetProperty("code").GetString());
        var ranges = doc.GetProperty("files")[0].GetProperty("differences");
        Assert.Equal(2, ranges.GetArrayLength());
        Assert.Equal(0x10100u, ranges[0].GetProperty("address").GetUInt32());
        Assert.Equal(64, ranges[0].GetProperty("length").GetInt32());

        var noDiff = await _sim.RunAsync("verify_flash", "--diff", "no", "0x10000", "d.bin");
        Assert.Equal(1, noDiff.ExitCode);
        Assert.DoesNotContain("differing range", noDiff.Stdout);
    }

    [Fact]
    public async Task EraseRegionErasesSectors()
    {
        _sim.Preload(0x1000, TestImages.Bytes(0x3000, 8));
        var r = await _sim.RunAsync("erase_region", "0x2000", "4k", "--json");
        Ok(r);
        var flash = _sim.Flash();
        Assert.All(flash[0x2000..0x3000], x => Assert.Equal(0xFF, x));
        Assert.Contains(flash[0x1000..0x2000], x => x != 0xFF);
        Assert.Contains(flash[0x3000..0x4000], x => x != 0xFF);
        Assert.Equal(0x2000u, r.Json.GetProperty("address").GetUInt32());
    }

    [Fact]
    public async Task EraseRegionUnalignedIsUsageError()
    {
        var r = await _sim.RunAsync("erase_region", "0x2001", "0x1000");
        Assert.Equal(2, r.ExitCode);
        Assert.StartsWith("error ESP1003:", r.Stderr);
    }

    [Fact]
    public async Task EraseFlashErasesEverything()
    {
        _sim.Preload(0x3F0000, TestImages.Bytes(0x100, 9));
        var r = await _sim.RunAsync("erase_flash");
        Ok(r);
        Assert.Contains("erase completed", r.Stdout, StringComparison.OrdinalIgnoreCase);
        Assert.All(_sim.Flash(), x => Assert.Equal(0xFF, x));
    }

    [Fact]
    public async Task ReadMacFlashIdChipId()
    {
        var sim = new SimChip(_cli, "esp32", "&mac=24:0a:c4:aa:bb:cc");
        var mac = await sim.RunAsync("read_mac");
        Ok(mac);
        Assert.Contains("MAC: 24:0a:c4:aa:bb:cc", mac.Stdout);
        Assert.Equal("24:0a:c4:aa:bb:cc", (await sim.RunAsync("read_mac", "--json")).Json.GetProperty("mac").GetString());

        var id = await sim.RunAsync("flash_id", "--json");
        Ok(id);
        Assert.Equal(0xC8, id.Json.GetProperty("manufacturer").GetInt32());
        Assert.Equal(4 * 1024 * 1024, id.Json.GetProperty("flashSize").GetInt32());
        Assert.Contains("Detected flash size: 4MB", (await sim.RunAsync("flash_id")).Stdout);

        var chip = await sim.RunAsync("chip_id");
        Ok(chip);
        Assert.Contains("Chip is ESP32", chip.Stdout);
        Assert.Contains("24:0a:c4:aa:bb:cc", chip.Stdout);
        Assert.StartsWith("ESP32", (await sim.RunAsync("chip_id", "--json")).Json.GetProperty("description").GetString());
    }

    [Fact]
    public async Task FlashStatusReadDecodesBits()
    {
        var sim = new SimChip(_cli, "esp32", "&flash-status=0x021c");
        var r = await sim.RunAsync("read_flash_status", "--bytes", "2");
        Ok(r);
        Assert.Contains("Status value: 0x021c", r.Stdout);
        Assert.Contains("Block protection: ON (BP2..BP0 = 111", r.Stdout);
        Assert.Contains("Quad enable (QE): on", r.Stdout);
        var j = (await sim.RunAsync("read_flash_status", "--json")).Json;
        Assert.Equal(0x021Cu, j.GetProperty("value").GetUInt32());
        Assert.Equal(7, j.GetProperty("bp").GetInt32());
        Assert.True(j.GetProperty("qe").GetBoolean());
        Assert.False(j.GetProperty("srp0").GetBoolean());
    }

    [Fact]
    public async Task ReadFlashSfdpDecodesHeaderAndBasicTable()
    {
        var r = await _sim.RunAsync("read_flash_sfdp", "0", "16");
        Ok(r);
        Assert.Contains("53 46 44 50", r.Stdout);
        Assert.Contains("|SFDP", r.Stdout);
        Assert.Contains("Density: 4 MiB", r.Stdout);
        Assert.Contains("4 KiB (opcode 20h)", r.Stdout);
        var j = (await _sim.RunAsync("read_flash_sfdp", "0", "16", "--json")).Json;
        Assert.StartsWith("53464450", j.GetProperty("data").GetString());
        Assert.Equal(4L * 1024 * 1024, j.GetProperty("decoded").GetProperty("densityBytes").GetInt64());
        Assert.Contains(j.GetProperty("decoded").GetProperty("eraseTypes").EnumerateArray(), e => e.GetProperty("size").GetInt32() == 4096);
    }
}
