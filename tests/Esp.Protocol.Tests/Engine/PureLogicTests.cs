using Esp.Protocol.Errors;
using Esp.Protocol.Loader;
using Esp.Protocol.Operations;

namespace Esp.Protocol.Tests.Engine;

public class PureLogicTests
{
    [Theory]
    // sectors < 2·head: half the sectors, rounded up
    [InlineData(0x0000u, 0x1000u, 0x1000u)]
    [InlineData(0x0000u, 0x3000u, 0x2000u)]
    // starting at the last sector of a block: head = 1
    [InlineData(0xF000u, 0x4000u, 0x3000u)]
    public void Esp8266EraseSizeCompensatesTheRomBug(uint offset, uint size, uint expected) =>
        Assert.Equal(expected, FlashWriter.Esp8266EraseSize(offset, size));

    [Theory]
    [InlineData(0x1640C8u, 4 * 1024 * 1024)]
    [InlineData(0x1840EFu, 16 * 1024 * 1024)]
    [InlineData(0x14405Eu, 1024 * 1024)]
    [InlineData(0x00861Fu, 2 * 1024 * 1024)] // Adesto: size id in bits 8..12
    [InlineData(0xFFFFFFu, null)]
    public void FlashSizeFromJedecId(uint id, int? size) => Assert.Equal(size, FlashIdentity.SizeFromId(id));

    [Fact]
    public void DiffIsGroupedIntoRanges()
    {
        var file = new byte[256];
        var flash = (byte[])file.Clone();
        flash[10] = 1; flash[12] = 1; // close together: one range
        flash[200] = 7;                 // far away: another
        var ranges = FlashVerifier.Compare(0x1000, flash, file);
        Assert.Equal(2, ranges.Count);
        Assert.Equal(0x100Au, ranges[0].Address);
        Assert.Equal(3, ranges[0].Length);
        Assert.Equal(0x10C8u, ranges[1].Address);
        Assert.Equal(1, ranges[1].Length);
        Assert.Equal(new byte[] { 7 }, ranges[1].FlashBytes);
    }

    [Fact]
    public void IdenticalDataHasNoDiff() => Assert.Empty(FlashVerifier.Compare(0, new byte[100], new byte[100]));

    [Theory]
    [InlineData("not json")]
    [InlineData("[]")]
    [InlineData("{\"text\":\"AAAA\"}")]
    [InlineData("{\"text\":\"@@@\",\"text_start\":1,\"entry\":1}")]
    [InlineData("{\"text\":\"AAAA\",\"text_start\":1073741824,\"entry\":5}")]
    public void BadStubFilesAreRejectedWithReason(string json)
    {
        var ex = Assert.Throws<EspException>(() => StubImage.Parse(json, "x.json"));
        Assert.Equal(EspErrorCode.InvalidStubFile, ex.Code);
        Assert.Contains("x.json", ex.Message);
    }

    [Fact]
    public void StubFileParses()
    {
        var stub = StubImage.Parse("{\"text\":\"AAECAw==\",\"text_start\":1074036736,\"entry\":1074036738,\"data\":\"BQY=\",\"data_start\":1073528832,\"bss_start\":1073528800}");
        Assert.Equal(new byte[] { 0, 1, 2, 3 }, stub.Text);
        Assert.Equal(0x40048002u, stub.Entry);
        Assert.Contains((0x3FFCBFE0u, 0x3FFCC002u), stub.OccupiedRanges());
    }

    [Fact]
    public void SfdpBasicTableIsDecoded()
    {
        var sfdp = new byte[0x30 + 36];
        "SFDP"u8.CopyTo(sfdp);
        sfdp[4] = 6; sfdp[5] = 1; sfdp[6] = 0; sfdp[7] = 0xFF;
        sfdp[8] = 0; sfdp[9] = 6; sfdp[10] = 1; sfdp[11] = 9; sfdp[12] = 0x30;
        BitConverter.TryWriteBytes(sfdp.AsSpan(0x30 + 4), 32u * 1024 * 1024 - 1); // 32 Mbit
        sfdp[0x30 + 28] = 12; sfdp[0x30 + 29] = 0x20;
        sfdp[0x30 + 30] = 16; sfdp[0x30 + 31] = 0xD8;
        var info = SfdpInfo.Parse(sfdp);
        Assert.Equal(4 * 1024 * 1024, info.DensityBytes);
        Assert.Equal([new SfdpEraseType(4096, 0x20), new SfdpEraseType(65536, 0xD8)], info.EraseTypes);
    }

    [Fact]
    public void MissingSfdpSignatureIsAClearError() =>
        Assert.Equal(EspErrorCode.InvalidSfdp, Assert.Throws<EspException>(() => SfdpInfo.Parse(new byte[16])).Code);

    [Fact]
    public void TimeoutsScalePerMegabyteWithFloorAndCap()
    {
        var t = EspTimeouts.Default;
        Assert.Equal(TimeSpan.FromSeconds(3), t.Scaled(t.Md5PerMegabyte, 1000));
        Assert.Equal(TimeSpan.FromSeconds(16), t.Scaled(t.Md5PerMegabyte, 2_000_000));
        Assert.Equal(t.Max, t.Scaled(t.EraseWritePerMegabyte, 100_000_000));
    }
}
