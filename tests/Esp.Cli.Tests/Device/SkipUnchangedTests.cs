using System.Text.Json;

namespace Esp.Cli.Tests.Device;

/// <summary>write_flash --skip-unchanged: planned with the chip's MD5s, only differing sectors written.</summary>
public class SkipUnchangedTests : IDisposable
{
    private readonly CliRunner _cli = new();
    private readonly SimChip _sim;

    public SkipUnchangedTests() => _sim = new SimChip(_cli);

    public void Dispose() => _cli.Dispose();

    private static void Ok(CliRun r) => Assert.True(r.ExitCode == 0, r.ToString());

    private static JsonElement File(CliRun r, string name) =>
        r.Json.GetProperty("files").EnumerateArray().Single(f => f.GetProperty("file").GetString() == name);

    [Fact]
    public async Task AnUnchangedFileIsNotWrittenAndAChangedOneOnlyInItsSector()
    {
        var app = TestImages.Bytes(256 * 1024, 41);
        _sim.Preload(0x10000, app);
        _cli.WriteFile("app.bin", app);

        var same = await _sim.RunAsync("write_flash", "--skip-unchanged", "0x10000", "app.bin");
        Ok(same);
        Assert.Contains("app.bin at 0x00010000: unchanged (the chip's MD5 matches), nothing written.", same.Stdout);
        Assert.DoesNotContain("Writing at", same.Stdout);

        app[5 * 4096 + 100] ^= 0xFF;
        _cli.WriteFile("app.bin", app);
        var changed = await _sim.RunAsync("write_flash", "--skip-unchanged", "0x10000", "app.bin");
        Ok(changed);
        Assert.Contains("app.bin at 0x00010000: rewrote 4096 of 262144 bytes in 1 range.", changed.Stdout);
        Assert.Contains("Hash of data verified", changed.Stdout);
        Assert.Equal(app, _sim.Flash()[0x10000..(0x10000 + app.Length)]);
    }

    [Fact]
    public async Task JsonSaysPerFileWhatWasRewritten()
    {
        var boot = TestImages.Bytes(8 * 1024, 42);
        var app = TestImages.Bytes(64 * 1024, 43);
        _sim.Preload(0x10000, app);
        app[0] ^= 1;
        app[40 * 1024] ^= 1;
        _cli.WriteFile("boot.bin", boot);
        _cli.WriteFile("app.bin", app);
        var flash = _sim.Flash();
        boot.CopyTo(flash, 0x2000);
        System.IO.File.WriteAllBytes(_sim.StatePath, flash);

        var r = await _sim.RunAsync("--json", "write_flash", "--skip-unchanged", "0x2000", "boot.bin", "0x10000", "app.bin");
        Ok(r);
        Assert.True(r.Json.GetProperty("skipUnchanged").GetBoolean());
        var b = File(r, "boot.bin");
        Assert.True(b.GetProperty("unchanged").GetBoolean());
        Assert.Equal(0, b.GetProperty("rewrittenBytes").GetInt64());
        Assert.Equal(0, b.GetProperty("rewrittenRanges").GetArrayLength());
        var a = File(r, "app.bin");
        Assert.False(a.GetProperty("unchanged").GetBoolean());
        Assert.True(a.GetProperty("verified").GetBoolean());
        Assert.Equal(8192, a.GetProperty("rewrittenBytes").GetInt64());
        Assert.Equal([(0x10000u, 4096), (0x1A000u, 4096)],
            a.GetProperty("rewrittenRanges").EnumerateArray().Select(x => (x.GetProperty("address").GetUInt32(), x.GetProperty("length").GetInt32())));
        Assert.Equal(Esp.Protocol.Operations.FlashMd5.Of(app), a.GetProperty("md5").GetString());
        Assert.Equal(app, _sim.Flash()[0x10000..(0x10000 + app.Length)]);
    }

    [Fact]
    public async Task OnAnErasedChipEverySectorWithDataIsWritten()
    {
        var app = TestImages.Bytes(20 * 1024, 44);
        _cli.WriteFile("app.bin", app);
        var r = await _sim.RunAsync("--json", "write_flash", "--skip-unchanged", "0x20000", "app.bin");
        Ok(r);
        Assert.Equal(app.Length, File(r, "app.bin").GetProperty("rewrittenBytes").GetInt64());
        Assert.Equal(app, _sim.Flash()[0x20000..(0x20000 + app.Length)]);
    }

    [Theory]
    [InlineData("--erase-all")]
    [InlineData("--no-verify")]
    public async Task SkipUnchangedExcludes(string other)
    {
        _cli.WriteFile("app.bin", [1, 2, 3]);
        var r = await _sim.RunAsync("write_flash", "--skip-unchanged", other, "0x10000", "app.bin");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--skip-unchanged and " + other, r.Stderr);
    }
}
