using System.Security.Cryptography;
using System.Text;
using Esp.Protocol.Errors;
using Esp.Protocol.Images;

namespace Esp.Protocol.Tests.Images;

public class PartitionTableTests
{
    private static readonly PartitionEntry[] Sample =
    [
        new("nvs", 1, 2, 0x9000, 0x6000),
        new("phy_init", 1, 1, 0xF000, 0x1000),
        new("factory", 0, 0, 0x10000, 0x100000),
        new("deploy", 1, 0x84, 0x110000, 0x2F0000, 1),
    ];

    private static EspException Bad(Action a)
    {
        var ex = Assert.Throws<EspException>(a);
        Assert.Equal(EspErrorCode.InvalidPartitionTable, ex.Code);
        return ex;
    }

    [Fact]
    public void BuildLayoutMatchesEspIdfFormat()
    {
        var bin = PartitionTable.Build(Sample);
        Assert.Equal(0xC00, bin.Length);
        Assert.Equal(new byte[] { 0xAA, 0x50, 0x01, 0x02, 0x00, 0x90, 0x00, 0x00, 0x00, 0x60, 0x00, 0x00 }, bin[..12]);
        Assert.Equal("nvs\0\0\0\0\0\0\0\0\0\0\0\0\0", Encoding.ASCII.GetString(bin, 12, 16));
        Assert.Equal(1, bin[3 * 32 + 28]); // deploy flags
        var md5Row = bin.AsSpan(4 * 32, 32);
        Assert.Equal(0xEB, md5Row[0]);
        Assert.Equal(0xEB, md5Row[1]);
        Assert.All(md5Row[2..16].ToArray(), b => Assert.Equal(0xFF, b));
        Assert.Equal(MD5.HashData(bin.AsSpan(0, 128)), md5Row[16..].ToArray());
        Assert.All(bin[(5 * 32)..], b => Assert.Equal(0xFF, b));
    }

    [Fact]
    public void ParseRoundTripAndFind()
    {
        var bin = PartitionTable.Build(Sample);
        var t = PartitionTable.Parse(bin);
        Assert.True(t.HasMd5);
        Assert.Equal(Sample, t.Entries);
        Assert.Equal("deploy", t.Find(PartitionTable.TypeData, NanoFrameworkDeployment.DeployPartitionSubType)!.Label);
        Assert.Equal("factory", t.Find(PartitionTable.TypeApp)!.Label);
        Assert.Null(t.Find(0x40));
        Assert.True(t.FindByLabel("deploy")!.Encrypted);
        Assert.Equal(bin, PartitionTable.Build(t.Entries));
    }

    [Fact]
    public void ParsesTableWithoutMd5AndShortInput()
    {
        var bin = PartitionTable.Build(Sample, withMd5: false);
        var t = PartitionTable.Parse(bin.AsSpan(0, 4 * 32));
        Assert.False(t.HasMd5);
        Assert.Equal(4, t.Entries.Count);
        Bad(() => PartitionTable.Parse(new byte[10]));
    }

    [Fact]
    public void BadMagic()
    {
        var bin = PartitionTable.Build(Sample);
        bin[32] = 0xAB;
        Assert.Contains("Row 1 at offset 0x20", Bad(() => PartitionTable.Parse(bin)).Message);
        Bad(() => PartitionTable.Parse(new byte[0xC00])); // all zero: not a table
    }

    [Fact]
    public void BadMd5()
    {
        var bin = PartitionTable.Build(Sample);
        bin[5] ^= 1; // change nvs offset → md5 no longer matches
        Assert.Contains("MD5", Bad(() => PartitionTable.Parse(bin, validate: false)).Message);
        bin = PartitionTable.Build(Sample);
        bin[4 * 32 + 20] ^= 1;
        Bad(() => PartitionTable.Parse(bin));
    }

    [Fact]
    public void OverlappingEntriesNameBoth()
    {
        var entries = Sample.Append(new PartitionEntry("spiffs", 1, 0x82, 0x100000, 0x20000)).ToArray();
        var ex = Bad(() => PartitionTable.Build(entries));
        Assert.Contains("'spiffs'", ex.Message);
        Assert.Contains("'factory'", ex.Message);
        // A table with overlaps read from flash is rejected too, unless validation is off.
        var raw = PartitionTable.Build(Sample);
        raw[3 * 32 + 6] = 0x10; // deploy offset → 0x100000, inside factory
        var md5 = MD5.HashData(raw.AsSpan(0, 128));
        md5.CopyTo(raw, 4 * 32 + 16);
        Bad(() => PartitionTable.Parse(raw));
        Assert.Equal(4, PartitionTable.Parse(raw, validate: false).Entries.Count);
    }

    [Theory]
    [InlineData("app", 0, 0, 0x11000u, 0x1000u)]          // app not 64 KiB aligned
    [InlineData("data", 1, 2, 0x9800u, 0x1000u)]          // data not 4 KiB aligned
    [InlineData("zero", 1, 2, 0x9000u, 0u)]               // empty
    [InlineData("a-label-longer-than-16", 1, 2, 0x9000u, 0x1000u)]
    [InlineData("table", 1, 2, 0x7000u, 0x2000u)]         // covers the table
    public void InvalidEntries(string label, byte type, byte sub, uint offset, uint size) =>
        Bad(() => PartitionTable.Build([new(label, type, sub, offset, size)]));

    [Fact]
    public void DuplicateLabelsAndTooManyEntries()
    {
        Bad(() => PartitionTable.Build([new("x", 1, 2, 0x9000, 0x1000), new("x", 1, 2, 0xA000, 0x1000)]));
        var many = Enumerable.Range(0, 100).Select(i => new PartitionEntry($"p{i}", 1, 0x81, 0x10000 + (uint)i * 0x1000, 0x1000));
        Bad(() => PartitionTable.Build(many));
    }

    [Fact]
    public void NanoFrameworkLayout()
    {
        var t = PartitionTable.Parse(PartitionTable.BuildNanoFramework());
        var deploy = t.Find(PartitionTable.TypeData, 0x84)!;
        Assert.Equal(0x1C0000u, deploy.Offset);
        Assert.Equal("factory", t.Find(PartitionTable.TypeApp, 0)!.Label);
        Bad(() => PartitionTable.BuildNanoFramework(deployOffset: 0x100000));
    }
}

public class NanoFrameworkDeploymentTests
{
    private static byte[] Pe(int length, string marker = "NFMRK1")
    {
        var b = new byte[length];
        for (int i = 0; i < length; i++) b[i] = (byte)(i + 1);
        Encoding.ASCII.GetBytes(marker).CopyTo(b, 0);
        return b;
    }

    [Fact]
    public void PadsEachToFourAndConcatenatesInOrder()
    {
        var d = NanoFrameworkDeployment.Build([("mscorlib", Pe(9)), ("App", Pe(12)), ("Lib", Pe(7, "NFMRK1"))]);
        Assert.Equal(12 + 12 + 8, d.TotalSize);
        Assert.Equal([0, 12, 24], d.Assemblies.Select(a => a.Offset));
        Assert.Equal(Pe(9), d.Image[..9]);
        Assert.Equal(new byte[3], d.Image[9..12]);
        Assert.Equal(Pe(12), d.Image[12..24]);
        Assert.Equal(0, d.Image[31]);
        Assert.Equal("NFMRK1", d.Assemblies[2].Marker);
        Assert.Equal(36, d.RequiredPartitionSize);
    }

    [Fact]
    public void FitsNeedsRoomForErasedTerminator()
    {
        var d = NanoFrameworkDeployment.Build([("a", Pe(16))]);
        Assert.True(d.Fits(20));
        Assert.False(d.Fits(16));
        var ex = Assert.Throws<EspException>(() => d.CheckFits(16));
        Assert.Equal(EspErrorCode.ImageTooLargeForPartition, ex.Code);
        d.CheckFits(new PartitionEntry("deploy", 1, 0x84, 0x1C0000, 0x1000));
        Assert.Equal(EspErrorCode.NoDeployPartition,
            Assert.Throws<EspException>(() => d.CheckFits(new PartitionEntry("nvs", 1, 2, 0x9000, 0x6000))).Code);
    }

    [Fact]
    public void RejectsBadInput()
    {
        void Invalid(IEnumerable<(string, byte[])> input, string expect)
        {
            var ex = Assert.Throws<EspException>(() => NanoFrameworkDeployment.Build(input));
            Assert.Equal(EspErrorCode.InvalidImage, ex.Code);
            Assert.Contains(expect, ex.Message);
        }
        Invalid([], "No .pe");
        Invalid([("empty", [])], "'empty' is empty");
        Invalid([("App.dll", [0x4D, 0x5A, 0x90, 0, 3, 0, 0])], "bytes 4D5A90000300");
        Invalid([("old", Encoding.ASCII.GetBytes("NFMRK0abcd"))], "\"NFMRK0\"");
        Invalid([("a", Pe(8, "NFMRK1")), ("b", Pe(8, "NFMRK2"))], "starts with NFMRK2");
    }

    [Fact]
    public void AcceptsRealMscorlibHeaderShape()
    {
        // First 16 bytes of mscorlib.pe from the nanoFramework.CoreLibrary 1.17.11 package.
        var head = Convert.FromHexString("4E464D524B310000" + "66C5DB4ED1175629");
        var d = NanoFrameworkDeployment.Build([("mscorlib", head)]);
        Assert.Equal("NFMRK1", d.Assemblies[0].Marker);
    }
}
