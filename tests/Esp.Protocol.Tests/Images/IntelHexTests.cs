using Esp.Protocol.Errors;
using Esp.Protocol.Images;

namespace Esp.Protocol.Tests.Images;

public class IntelHexTests
{
    private static EspException Bad(string text)
    {
        var ex = Assert.Throws<EspException>(() => IntelHex.Parse(text));
        Assert.Equal(EspErrorCode.InvalidIntelHex, ex.Code);
        return ex;
    }

    [Fact]
    public void ReadsClassicExample()
    {
        // The widely published example record and its checksum.
        var hex = ":10010000214601360121470136007EFE09D2190140\n:00000001FF\n";
        var f = IntelHex.Parse(hex);
        var run = Assert.Single(f.Runs);
        Assert.Equal(0x100u, run.Address);
        Assert.Equal(Convert.FromHexString("214601360121470136007EFE09D21901"), run.Data);
    }

    [Fact]
    public void SplitsIntoMaximalRunsAcrossRecordsAndExtendedAddresses()
    {
        var parts = new[]
        {
            new ImagePart(0x0000FFF8, Enumerable.Range(0, 24).Select(i => (byte)i).ToArray()), // crosses 64 KiB
            new ImagePart(0x00020000, [0xAA, 0xBB]),
            new ImagePart(0x3F400000, new byte[33]),
        };
        var text = IntelHex.Write(parts, startLinearAddress: 0x40080000);
        Assert.Contains(":020000040001F9", text);
        Assert.Contains(":0400000540080000", text);
        Assert.EndsWith(":00000001FF\n", text);
        var f = IntelHex.Parse(text);
        Assert.Equal(parts, f.Runs);
        Assert.Equal(0x40080000u, f.StartLinearAddress);
        // Writing again gives the same text.
        Assert.Equal(text, IntelHex.Write(f.Runs, f.StartLinearAddress));
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            Assert.True(line.Length <= 1 + 2 * (5 + 16));
    }

    [Fact]
    public void AdjacentRecordsOutOfOrderMergeIntoOneRun()
    {
        var a = IntelHex.Write([new ImagePart(0x10, [1, 2])]).Split('\n')[1];
        var b = IntelHex.Write([new ImagePart(0x12, [3, 4])]).Split('\n')[1];
        var f = IntelHex.Parse(b + "\n" + a + "\r\n:00000001FF\r\n");
        var run = Assert.Single(f.Runs);
        Assert.Equal(new ImagePart(0x10, [1, 2, 3, 4]), run);
    }

    [Fact]
    public void SegmentAddressAndStartSegmentRecords()
    {
        // 02: segment 0x1000 → base 0x10000; 03: CS=0x1234, IP=0x5678.
        var text = ":020000021000EC\n:0100000055AA\n:0400000312345678E5\n:00000001FF\n";
        var f = IntelHex.Parse(text);
        Assert.Equal(new ImagePart(0x10000, [0x55]), Assert.Single(f.Runs));
        Assert.Equal(0x12345678u, f.StartSegmentAddress);
    }

    [Fact]
    public void BadChecksumNamesLine()
    {
        var ex = Bad(":00000001FF\n:10010000214601360121470136007EFE09D2190141\n");
        Assert.Contains("Line 2", ex.Message);
        Assert.Contains("0x40", ex.Message);
    }

    [Fact]
    public void BadRecordType() => Assert.Contains("type 0x06", Bad(":00000006FA\n").Message);

    [Fact]
    public void OddLength() => Assert.Contains("odd", Bad(":00000001F\n").Message);

    [Theory]
    [InlineData("10010000214601")]                   // no colon
    [InlineData(":0001")]                            // too short
    [InlineData(":0200000001FF")]                    // declared 2, holds 0... and bad
    [InlineData(":01000000GG00")]                    // not hex
    [InlineData(":0100000100FE")]                    // EOF with data
    [InlineData(":03000004000100F8")]                // type 04 with 3 bytes
    [InlineData(":0100000001FE\n:0100000002FD")]     // same address twice
    [InlineData(":04FFFF04FFFF0000FF\n:02FFFF00AABB9A")] // past 4 GiB
    public void MalformedInputThrowsInvalidIntelHex(string text) => Bad(text);

    [Fact]
    public void NonAsciiBytesAreRejected()
    {
        var ex = Assert.Throws<EspException>(() => IntelHex.Parse(new byte[] { (byte)':', 0xC3, 0xA9 }));
        Assert.Equal(EspErrorCode.InvalidIntelHex, ex.Code);
    }

    [Fact]
    public void DataAfterEofIsIgnoredAndLooksLikeHex()
    {
        var f = IntelHex.Parse(":00000001FF\n:0100000055AA\n"u8.ToArray());
        Assert.Empty(f.Runs);
        Assert.True(IntelHex.LooksLikeHex(":"u8));
        Assert.False(IntelHex.LooksLikeHex([0xE9]));
    }

    [Fact]
    public void RandomPartsRoundTrip()
    {
        var rng = new Random(7);
        for (int n = 0; n < 100; n++)
        {
            var parts = new List<ImagePart>();
            uint addr = (uint)rng.Next(0, 0x30000);
            for (int i = 0; i < rng.Next(1, 6); i++)
            {
                var data = new byte[rng.Next(1, 300)];
                rng.NextBytes(data);
                parts.Add(new ImagePart(addr, data));
                addr += (uint)data.Length + (uint)rng.Next(1, 0x20000);
            }
            var text = IntelHex.Write(parts, newLine: "\r\n");
            Assert.Equal(parts, IntelHex.Parse(text).Runs);
        }
    }
}
