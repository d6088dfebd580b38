using Esp.Protocol.Chips;
using Esp.Protocol.Images;

namespace Esp.Cli.Tests.Device;

/// <summary>write_flash runs the deploy guards before erasing anything; --force turns them into warnings.</summary>
public class GuardCommandTests : IDisposable
{
    private readonly CliRunner _cli = new();

    public void Dispose() => _cli.Dispose();

    private static byte[] AppFor(ChipDefinition chip, ushort minRev = 0)
    {
        var image = EspImage.Create(chip);
        var ram = chip.MemoryMap.Where(r => r.IsRam && !r.IsAlias).MaxBy(r => r.End - r.Start)!;
        image.Entry = ram.Start;
        image.MinRevFull = minRev;
        image.FlashSizeCode = chip.FlashSizes["4MB"];
        image.Segments.Add(new ImageSegment(ram.Start, TestImages.Bytes(0x400, 7)));
        return image.ToBytes();
    }

    [Fact]
    public async Task ImageForAnotherChipIsRefusedBeforeAnythingIsWritten()
    {
        var sim = new SimChip(_cli, "esp32c3");
        sim.Preload(0, []);
        _cli.WriteFile("app.bin", AppFor(ChipDatabase.Esp32));
        var r = await sim.RunAsync("write_flash", "0x10000", "app.bin");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("ESP5001", r.Stderr);
        Assert.Contains("--force", r.Stderr);
        Assert.All(sim.Flash()[0x10000..0x10400], b => Assert.Equal(0xFF, b));
    }

    [Fact]
    public async Task ForceWritesAnywayWithAWarning()
    {
        var sim = new SimChip(_cli, "esp32c3");
        var app = AppFor(ChipDatabase.Esp32);
        _cli.WriteFile("app.bin", app);
        var r = await sim.RunAsync("write_flash", "--force", "0x10000", "app.bin");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("ESP5001", r.Stderr + r.Stdout);
        Assert.Equal(app, sim.Flash()[0x10000..(0x10000 + app.Length)]);
    }

    [Fact]
    public async Task ChipRevisionRangeIsChecked()
    {
        var sim = new SimChip(_cli, "esp32", "&revision=100");
        _cli.WriteFile("app.bin", AppFor(ChipDatabase.Esp32));
        var r = await sim.RunAsync("write_flash", "--chip-rev", "[3.0,)", "0x10000", "app.bin");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("ESP5002", r.Stderr);
        Assert.Contains("v1.0", r.Stderr);
    }

    [Fact]
    public async Task BadRevisionRangeIsAUsageError()
    {
        var sim = new SimChip(_cli, "esp32");
        _cli.WriteFile("app.bin", AppFor(ChipDatabase.Esp32));
        var r = await sim.RunAsync("write_flash", "--chip-rev", "three", "0x10000", "app.bin");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("ESP1022", r.Stderr);
    }
}
