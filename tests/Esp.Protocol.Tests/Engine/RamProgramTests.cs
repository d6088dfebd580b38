using Esp.Protocol.Chips;
using Esp.Protocol.Errors;
using Esp.Protocol.Images;
using Esp.Protocol.Operations;

namespace Esp.Protocol.Tests.Engine;

public class RamProgramTests
{
    private static byte[] Image()
    {
        var image = EspImage.Create(ChipDatabase.Esp32C3);
        image.Entry = 0x40390000;
        image.Segments.Add(new ImageSegment(0x40390000, Enumerable.Range(0, 72).Select(i => (byte)i).ToArray()));
        return image.ToBytes();
    }

    [Fact]
    public void EspImageGivesSegmentsAndEntry()
    {
        var (segments, entry) = RamLoader.ParseProgram(Image(), ChipDatabase.Esp32C3);
        Assert.Equal(0x40390000u, entry);
        Assert.Equal(72, Assert.Single(segments).Data.Length);
    }

    [Fact]
    public void IntelHexHoldingOneImageIsAccepted()
    {
        var hex = System.Text.Encoding.ASCII.GetBytes(IntelHex.Write([new ImagePart(0x1000, Image(), null)]));
        var (segments, entry) = RamLoader.ParseProgram(hex);
        Assert.Equal(0x40390000u, entry);
        Assert.Equal(0x40390000u, Assert.Single(segments).Address); // the HEX address does not matter
    }

    [Fact]
    public void MergedHexWithSeveralBlocksIsRefused()
    {
        var hex = System.Text.Encoding.ASCII.GetBytes(IntelHex.Write([new ImagePart(0, Image(), null), new ImagePart(0x10000, Image(), null)]));
        var ex = Assert.Throws<EspException>(() => RamLoader.ParseProgram(hex));
        Assert.Equal(EspErrorCode.InvalidIntelHex, ex.Code);
        Assert.Contains("2 separate blocks", ex.Message);
    }

    [Fact]
    public void DamagedImageIsRefused()
    {
        var bytes = Image();
        bytes[40] ^= 0xFF; // segment data: the checksum no longer matches
        Assert.Equal(EspErrorCode.ImageChecksumMismatch, Assert.Throws<EspException>(() => RamLoader.ParseProgram(bytes)).Code);
        Assert.Equal(EspErrorCode.FileEmpty, Assert.Throws<EspException>(() => RamLoader.ParseProgram([])).Code);
        Assert.Equal(EspErrorCode.InvalidImage, Assert.Throws<EspException>(() => RamLoader.ParseProgram([0x7F, 0x45, 0x4C, 0x46, 0, 0, 0, 0, 0])).Code);
    }

    [Fact]
    public void FlashSegmentsAndStubOverlapAreRefused()
    {
        var chip = ChipDatabase.Esp32;
        Assert.Equal(EspErrorCode.SegmentNotInRam, Assert.Throws<EspException>(() =>
            RamLoader.Check(chip, [new RamSegment(0x400D0000, new byte[16])], null)).Code);
        var stub = chip.StubFor("2")!;
        Assert.Equal(EspErrorCode.SegmentOverlapsStub, Assert.Throws<EspException>(() =>
            RamLoader.Check(chip, [new RamSegment(stub.TextStart - 8, new byte[16])], null, stub)).Code);
    }
}
