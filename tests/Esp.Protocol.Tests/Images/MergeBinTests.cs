using Esp.Protocol.Chips;
using Esp.Protocol.Errors;
using Esp.Protocol.Images;

namespace Esp.Protocol.Tests.Images;

public class MergeBinTests
{
    [Fact]
    public void FillsGapsWithFfFromTargetOffset()
    {
        var raw = MergeBin.ToRaw([new ImagePart(0x1008, [1, 2]), new ImagePart(0x1000, [9])], new MergeOptions { TargetOffset = 0x1000 });
        Assert.Equal(new byte[] { 9, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 1, 2 }, raw);
    }

    [Fact]
    public void PadsToSize()
    {
        var raw = MergeBin.ToRaw([new ImagePart(0x10, [1])], new MergeOptions { PadToSize = 0x40 });
        Assert.Equal(0x40, raw.Length);
        Assert.Equal(1, raw[0x10]);
        Assert.All(raw.Where((_, i) => i != 0x10), b => Assert.Equal(0xFF, b));
    }

    [Fact]
    public void OverlapNamesBothParts()
    {
        var ex = Assert.Throws<EspException>(() => MergeBin.ToRaw(
        [
            new ImagePart(0x1000, new byte[0x8000], "bootloader.bin"),
            new ImagePart(0x8000, new byte[0xC00], "partitions.bin"),
        ]));
        Assert.Equal(EspErrorCode.OverlappingRegions, ex.Code);
        Assert.Contains("bootloader.bin", ex.Message);
        Assert.Contains("partitions.bin", ex.Message);
    }

    [Fact]
    public void OverlapBehindEmptyPartIsStillFound()
    {
        var ex = Assert.Throws<EspException>(() => MergeBin.ToIntelHex(
            [new ImagePart(0x100, new byte[0x10], "a"), new ImagePart(0x100, [], "empty"), new ImagePart(0x108, [1], "b")]));
        Assert.Equal(EspErrorCode.OverlappingRegions, ex.Code);
        Assert.Contains("a (0x100", ex.Message);
    }

    [Fact]
    public void PartBeforeTargetOffsetAndHugeOutputAreRejected()
    {
        Assert.Equal(EspErrorCode.AddressOutOfRange, Assert.Throws<EspException>(() =>
            MergeBin.ToRaw([new ImagePart(0x0, [1])], new MergeOptions { TargetOffset = 0x1000 })).Code);
        Assert.Equal(EspErrorCode.FileTooLarge, Assert.Throws<EspException>(() =>
            MergeBin.ToRaw([new ImagePart(0x0, [1]), new ImagePart(0xF0000000, [1])])).Code);
        Assert.Equal(EspErrorCode.FileTooLarge, Assert.Throws<EspException>(() =>
            MergeBin.ToRaw([new ImagePart(0xFFFFFFFF, [1, 2])])).Code);
        Assert.Equal(EspErrorCode.InvalidArgument, Assert.Throws<EspException>(() => MergeBin.ToRaw([])).Code);
    }

    [Fact]
    public void PatchesBootloaderHeaderOnlyAtBootloaderOffsetWithoutTouchingInput()
    {
        var boot = EspImageTests.Sample(ChipDatabase.Esp32).ToBytes();
        var app = EspImageTests.Sample(ChipDatabase.Esp32).ToBytes();
        var options = new MergeOptions { TargetOffset = 0x1000, Chip = ChipDatabase.Esp32, FlashMode = "qio", FlashFrequency = "80m", FlashSize = "16MB" };
        var raw = MergeBin.ToRaw([new ImagePart(0x1000, boot), new ImagePart(0x10000, app)], options);
        Assert.Equal(0x00, raw[2]);
        Assert.Equal(0x4F, raw[3]);
        Assert.Equal(0x02, boot[2]); // caller's copy untouched
        var patched = EspImage.Parse(raw, ChipDatabase.Esp32);
        Assert.True(patched.Sha256Valid);
        Assert.Equal(app, raw.AsSpan(0xF000, app.Length).ToArray()); // app not patched
    }

    [Fact]
    public void HexOutputKeepsGapsAndRoundTrips()
    {
        var parts = new[] { new ImagePart(0x1000, [1, 2, 3, 4]), new ImagePart(0x8000, [5, 6]) };
        var hex = MergeBin.ToIntelHex(parts);
        Assert.Equal(parts, IntelHex.Parse(hex).Runs);
    }
}

public class PatchFlashParametersTests
{
    [Fact]
    public void KeepChangesNothing()
    {
        var bytes = EspImageTests.Sample(ChipDatabase.Esp32).ToBytes();
        var before = (byte[])bytes.Clone();
        Assert.False(EspImage.PatchFlashParameters(bytes, ChipDatabase.Esp32, "keep", null, "keep"));
        Assert.Equal(before, bytes);
    }

    [Fact]
    public void SameValuesReportNoChange()
    {
        var bytes = EspImageTests.Sample(ChipDatabase.Esp32).ToBytes();
        Assert.False(EspImage.PatchFlashParameters(bytes, ChipDatabase.Esp32, "dio", "40m", "4MB"));
    }

    [Fact]
    public void PatchesEachFieldAndRecomputesHash()
    {
        var bytes = EspImageTests.Sample(ChipDatabase.Esp32C3).ToBytes();
        Assert.True(EspImage.PatchFlashParameters(bytes, ChipDatabase.Esp32C3, null, "80m", null));
        Assert.Equal(0x2F, bytes[3]);
        Assert.True(EspImage.PatchFlashParameters(bytes, ChipDatabase.Esp32C3, "DOUT", null, "2mb"));
        Assert.Equal(0x03, bytes[2]);
        Assert.Equal(0x1F, bytes[3]);
        var img = EspImage.Parse(bytes, ChipDatabase.Esp32C3);
        Assert.True(img.Sha256Valid);
        Assert.True(img.ChecksumValid);
    }

    [Fact]
    public void WithoutHashOnlyHeaderBytesChange()
    {
        var bytes = EspImageTests.Sample(ChipDatabase.Esp32, hash: false).ToBytes();
        var before = (byte[])bytes.Clone();
        Assert.True(EspImage.PatchFlashParameters(bytes, ChipDatabase.Esp32, "qout", null, null));
        Assert.Equal(before.Length, bytes.Length);
        Assert.Equal(before.Skip(3), bytes.Skip(3));
    }

    [Fact]
    public void Esp8266UsesItsSizeTable()
    {
        var bytes = EspImageTests.Sample(ChipDatabase.Esp8266).ToBytes();
        Assert.True(EspImage.PatchFlashParameters(bytes, ChipDatabase.Esp8266, null, "26m", "4MB-c1"));
        Assert.Equal(0x61, bytes[3]);
    }

    [Fact]
    public void NonImagesAreLeftAlone()
    {
        var notImage = new byte[64];
        Assert.False(EspImage.PatchFlashParameters(notImage, ChipDatabase.Esp32, "qio", null, null));
        var broken = EspImageTests.Sample(ChipDatabase.Esp32).ToBytes()[..30];
        var copy = (byte[])broken.Clone();
        Assert.False(EspImage.PatchFlashParameters(broken, ChipDatabase.Esp32, "qio", null, null));
        Assert.Equal(copy, broken);
        Assert.False(EspImage.PatchFlashParameters(new byte[3], ChipDatabase.Esp32, "qio", null, null));
    }

    [Theory]
    [InlineData("fast", null, null)]
    [InlineData(null, "26m", null)] // C2 has no 26m
    [InlineData(null, null, "detect")]
    [InlineData(null, null, "3MB")]
    public void BadNamesThrowInvalidArgument(string? mode, string? freq, string? size)
    {
        var bytes = EspImageTests.Sample(ChipDatabase.Esp32C2).ToBytes();
        var ex = Assert.Throws<EspException>(() => EspImage.PatchFlashParameters(bytes, ChipDatabase.Esp32C2, mode, freq, size));
        Assert.Equal(EspErrorCode.InvalidArgument, ex.Code);
    }
}
