using Esp.Protocol.Chips;
using Esp.Protocol.Errors;
using Esp.Protocol.Operations;
using Esp.Protocol.Stubs;

namespace Esp.Protocol.Tests.Chips;

/// <summary>The flasher stubs embedded at build time: complete, parseable, and where each chip expects them.</summary>
public class ShippedStubTests
{
    public static TheoryData<string> KnownChips() => [.. ChipDatabase.All.Select(c => c.Key)];

    [Fact]
    public void EveryPublishedStubIsEmbedded()
    {
        string[] expected =
        [
            "esp32.json", "esp32c2.json", "esp32c3.json", "esp32c5.json", "esp32c6.json", "esp32c61.json", "esp32h2.json",
            "esp32h4.json", "esp32p4-rev1.json", "esp32p4.json", "esp32s2.json", "esp32s3.json", "esp32s31.json", "esp8266.json",
        ];
        Assert.Equal(expected, FlasherStubs.FileNames);
        foreach (var name in FlasherStubs.FileNames)
        {
            var stub = FlasherStubs.Load(name);
            Assert.True(stub.Text.Length > 1000, name);
            Assert.True(stub.Data.Length > 0, name);
        }
    }

    [Fact]
    public void TheLicenceTravelsWithTheStubs()
    {
        Assert.Contains("Apache License", FlasherStubs.License, StringComparison.Ordinal);
        Assert.Contains("Version 2.0", FlasherStubs.License, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(KnownChips))]
    public void EachChipHasAStubInsideItsRam(string chipKey)
    {
        var chip = ChipDatabase.Get(chipKey);
        var stub = FlasherStubs.For(chip) ?? throw new Xunit.Sdk.XunitException($"no stub for {chipKey}");
        uint textEnd = stub.TextStart + (uint)stub.Text.Length;
        uint dataEnd = stub.DataStart + (uint)stub.Data.Length;
        Assert.InRange(stub.Entry, stub.TextStart, textEnd - 1);
        // The stub loads like a load_ram program: every byte in the chip's RAM (MEM_BEGIN would refuse it otherwise).
        RamLoader.Check(chip, [new RamSegment(stub.TextStart, stub.Text), new RamSegment(stub.DataStart, stub.Data)], runningStub: null);
        // The chip record's stub location (used by the load_ram overlap guard when the stub was left by an earlier
        // session) is this very stub.
        var known = chip.StubFor("2")!;
        Assert.Equal((known.TextStart, known.TextEnd, known.Entry), (stub.TextStart, textEnd, stub.Entry));
        Assert.Equal((known.DataStart, known.DataEnd), (stub.BssStart, dataEnd));
    }

    [Theory]
    [MemberData(nameof(KnownChips))]
    public void ALoadRamProgramOverTheStubIsRefused(string chipKey)
    {
        var chip = ChipDatabase.Get(chipKey);
        var stub = FlasherStubs.For(chip)!;
        var ex = Assert.Throws<EspException>(() =>
            RamLoader.Check(chip, [new RamSegment(stub.TextStart + 16, new byte[64])], runningStub: stub));
        Assert.Equal(EspErrorCode.SegmentOverlapsStub, ex.Code);
        ex = Assert.Throws<EspException>(() =>
            RamLoader.Check(chip, [new RamSegment(stub.DataStart, new byte[16])], runningStub: null, chip.StubFor("2")));
        Assert.Equal(EspErrorCode.SegmentOverlapsStub, ex.Code);
    }

    [Theory]
    [InlineData(0, "esp32p4-rev1.json")]
    [InlineData(100, "esp32p4-rev1.json")]
    [InlineData(299, "esp32p4-rev1.json")]
    [InlineData(300, "esp32p4.json")]
    [InlineData(null, "esp32p4.json")]
    public void TheEsp32P4StubFollowsTheRevision(int? revision, string expected) =>
        Assert.Equal(expected, FlasherStubs.FileNameFor(ChipDatabase.Get("esp32p4"), revision));

    [Fact]
    public void AChipWithoutAPublishedStubGetsNone()
    {
        var invented = ChipDatabase.Esp32 with { Key = "esp32x9", Name = "ESP32-X9" };
        Assert.Null(FlasherStubs.FileNameFor(invented));
        Assert.Null(FlasherStubs.For(invented));
    }
}
