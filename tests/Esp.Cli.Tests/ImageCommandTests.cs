using Esp.Protocol.Images;
using Esp.Protocol.Tests.Images;

namespace Esp.Cli.Tests;

public class ImageCommandTests : IDisposable
{
    private readonly CliRunner _cli = new();
    public void Dispose() => _cli.Dispose();

    [Fact]
    public async Task ImageInfoDescribesSegmentsAndChecksum()
    {
        _cli.WriteFile("app.bin", TestImages.RamApp());
        var r = await _cli.RunAsync("image_info", "app.bin");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("Entry point: 0x40080404", r.Stdout);
        Assert.Contains("Segments: 2", r.Stdout);

        var j = (await _cli.RunAsync("image-info", "app.bin", "--json")).Json;
        Assert.True(j.GetProperty("valid").GetBoolean());
        Assert.Equal("esp32", j.GetProperty("chip").GetString());
        Assert.Equal(0x40080404u, j.GetProperty("entry").GetUInt32());
        Assert.Equal(2, j.GetProperty("segments").GetArrayLength());
        Assert.Equal(0x40080400u, j.GetProperty("segments")[0].GetProperty("address").GetUInt32());
    }

    [Fact]
    public async Task ImageInfoOnDamagedImageReportsItAsBadInput()
    {
        var bytes = TestImages.RamApp();
        bytes[40] ^= 0xFF; // inside segment data: checksum and SHA-256 no longer match
        _cli.WriteFile("bad.bin", bytes);
        var r = await _cli.RunAsync("image_info", "bad.bin", "--json");
        // ESP1xxx codes are problems with what the user gave: exit 2, with the findings still in the JSON.
        Assert.Equal(2, r.ExitCode);
        Assert.False(r.Json.GetProperty("valid").GetBoolean());
        Assert.StartsWith("error ESP1011:", r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ImageInfoOnNonImageIsUsageError()
    {
        _cli.WriteFile("notes.txt", "hello world, not an image"u8.ToArray());
        var r = await _cli.RunAsync("image_info", "notes.txt");
        Assert.Equal(2, r.ExitCode);
        Assert.StartsWith("error ESP1010:", r.Stderr);
    }

    [Fact]
    public async Task MergeBinRawPlacesFilesAndFillsGaps()
    {
        _cli.WriteFile("a.bin", [1, 2, 3, 4]);
        _cli.WriteFile("b.bin", [9, 9]);
        var r = await _cli.RunAsync("merge_bin", "-o", "merged.bin", "--target-offset", "0x1000", "--fill-flash-size", "0x2000", "0x1000", "a.bin", "0x1010", "b.bin", "--json");
        Assert.True(r.ExitCode == 0, r.ToString());
        var merged = File.ReadAllBytes(_cli.PathOf("merged.bin"));
        Assert.Equal(0x1000, merged.Length); // 0x1000..0x2000
        Assert.Equal(new byte[] { 1, 2, 3, 4 }, merged[..4]);
        Assert.All(merged[4..0x10], b => Assert.Equal(0xFF, b));
        Assert.Equal(new byte[] { 9, 9 }, merged[0x10..0x12]);
        Assert.Equal(0x1000, r.Json.GetProperty("size").GetInt32());
    }

    [Fact]
    public async Task MergeBinHexRoundTrips()
    {
        _cli.WriteFile("a.bin", [1, 2, 3, 4]);
        var r = await _cli.RunAsync("merge-bin", "--output", "m.hex", "--format", "hex", "0x10000", "a.bin");
        Assert.True(r.ExitCode == 0, r.ToString());
        var hex = IntelHex.Parse(File.ReadAllText(_cli.PathOf("m.hex")));
        var run = Assert.Single(hex.Runs);
        Assert.Equal(0x10000u, run.Address);
        Assert.Equal(new byte[] { 1, 2, 3, 4 }, run.Data);
    }

    [Fact]
    public async Task MergeBinOverlapIsUsageError()
    {
        _cli.WriteFile("a.bin", new byte[0x20]);
        _cli.WriteFile("b.bin", new byte[0x20]);
        var r = await _cli.RunAsync("merge_bin", "-o", "m.bin", "0x0", "a.bin", "0x10", "b.bin");
        Assert.Equal(2, r.ExitCode);
        Assert.StartsWith("error ESP1008:", r.Stderr);
    }

    [Fact]
    public async Task MergeBinWithoutOutputIsUsageError()
    {
        _cli.WriteFile("a.bin", [1]);
        var r = await _cli.RunAsync("merge_bin", "0x0", "a.bin");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("-o", r.Stderr);
    }

    [Fact]
    public async Task Elf2ImageWritesAnImageThatImageInfoReads()
    {
        var elf = new ElfWriter { Entry = 0x40080404 }
            .Add(".iram0.text", 0x40080400, TestImages.Bytes(0x100, 7))
            .Add(".dram0.data", 0x3FFB0000, TestImages.Bytes(0x80, 8), ElfWriter.ShfAlloc | ElfWriter.ShfWrite)
            .Build();
        _cli.WriteFile("app.elf", elf);
        var r = await _cli.RunAsync("--chip", "esp32", "elf2image", "--flash-mode", "dio", "--flash-size", "4MB", "app.elf", "--json");
        Assert.True(r.ExitCode == 0, r.ToString());
        var image = EspImage.Parse(File.ReadAllBytes(_cli.PathOf("app.bin")));
        Assert.Equal(0x40080404u, image.Entry);
        Assert.Equal(FlashMode.Dio, image.FlashMode);
        Assert.True(image.ChecksumValid);
        Assert.Equal(2, image.Segments.Count);
    }

    [Fact]
    public async Task Elf2ImageNeedsChip()
    {
        _cli.WriteFile("app.elf", new ElfWriter().Add(".iram0.text", 0x40080400, new byte[16]).Build());
        var r = await _cli.RunAsync("elf2image", "app.elf");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--chip", r.Stderr);
    }
}
