using Esp.Protocol.Chips;

namespace Esp.Protocol.Tests.Chips;

public class RevisionAndDescriptionTests
{
    private static readonly Func<uint, uint> Esp32Trace = TraceRegisters.Reader(TraceRegisters.Esp32);
    private static readonly Func<uint, uint> C3Trace = TraceRegisters.Reader(TraceRegisters.Esp32C3);

    [Fact]
    public void EveryChipButEsp8266HasARevisionLayout()
    {
        foreach (var chip in ChipDatabase.All)
            Assert.Equal(!chip.IsEsp8266, chip.Revision is not null);
    }

    [Fact]
    public void Esp32TraceIsRevision3_0()
    {
        Assert.Equal(300, ChipDatabase.Esp32.ReadRevision(Esp32Trace));
        Assert.Equal("v3.0", RevisionLayout.Format(ChipDatabase.Esp32.Revision!.Read(Esp32Trace)));
    }

    [Fact]
    public void Esp32TraceDescriptionAndFeatures()
    {
        Assert.Equal(1u, ChipDatabase.Esp32.ReadPackageVersion(Esp32Trace));
        Assert.Equal("ESP32-D0WD-V3 (revision v3.0)", ChipDatabase.Esp32.DescribeChip(Esp32Trace));
        Assert.Equal(["Wi-Fi", "BT", "Dual Core + LP Core", "Coding Scheme None"], ChipDatabase.Esp32.DescribeFeatures(Esp32Trace));
    }

    [Fact]
    public void C3TraceIsRevision0_3()
    {
        Assert.Equal(3, ChipDatabase.Esp32C3.ReadRevision(C3Trace));
        Assert.Equal("ESP32-C3 (QFN32) (revision v0.3)", ChipDatabase.Esp32C3.DescribeChip(C3Trace));
        Assert.Equal(["Wi-Fi", "BT 5 (LE)", "Single Core", "160MHz"], ChipDatabase.Esp32C3.DescribeFeatures(C3Trace));
    }

    [Fact]
    public void TraceConstantsMatchTheTraceFiles()
    {
        // Cross-checks the constants above against the recorded sessions.
        foreach (var (file, expected) in new[]
                 {
                     ("esp32-rom/read_mac.jsonl", TraceRegisters.Esp32),
                     ("esp32c3-rom/read_mac.jsonl", TraceRegisters.Esp32C3),
                 })
        {
            var recorded = TraceRegisters.FromTraceFile(file);
            foreach (var (address, value) in expected)
            {
                Assert.True(recorded.TryGetValue(address, out var read), $"{file} has no READ_REG of 0x{address:X8}.");
                Assert.Equal(value, read);
            }
        }
    }

    [Fact]
    public async Task AsyncRevisionReadsEachRegisterOnce()
    {
        var reads = new List<uint>();
        int revision = await ChipDatabase.Esp32.Revision!.ReadAsync(a =>
        {
            reads.Add(a);
            return Task.FromResult(Esp32Trace(a));
        });
        Assert.Equal(300, revision);
        Assert.Equal(reads.Count, reads.Distinct().Count());
        Assert.Equal([0x3FF5A00Cu, 0x3FF5A014u, 0x3FF6607Cu], reads.Order());
    }

    [Fact]
    public async Task AsyncDescriptionMatchesSync()
    {
        Assert.Equal("ESP32-D0WD-V3 (revision v3.0)",
            await ChipDatabase.Esp32.DescribeChipAsync(a => Task.FromResult(Esp32Trace(a))));
        Assert.Equal(["Wi-Fi", "BT 5 (LE)", "Single Core", "160MHz"],
            await ChipDatabase.Esp32C3.DescribeFeaturesAsync(a => Task.FromResult(C3Trace(a))));
    }

    [Theory]
    // word3 bit15, word5 bit20, APB bit31 → combined value → major
    [InlineData(0u, 0u, 0u, 0)]
    [InlineData(1u << 15, 0u, 0u, 1)]
    [InlineData(1u << 15, 1u << 20, 0u, 2)]
    [InlineData(1u << 15, 1u << 20, 1u << 31, 3)]
    [InlineData(0u, 1u << 20, 0u, 0)] // combination 2 is not in esptool's table → 0
    public void Esp32MajorMap(uint word3, uint word5, uint apb, int major)
    {
        var read = TraceRegisters.Words((0x3FF5A00C, word3), (0x3FF5A014, word5 | (2u << 24)), (0x3FF6607C, apb));
        Assert.Equal(major * 100 + 2, ChipDatabase.Esp32.ReadRevision(read));
    }

    [Theory]
    [InlineData(0u, 0u, "ESP32-D0WDQ6 (revision v0.0)")]
    [InlineData(0x1u << 9, 1u, "ESP32-S0WD (revision v0.0)")]
    [InlineData(0x5u << 9, 0u, "ESP32-PICO-D4 (revision v0.0)")]
    [InlineData((0x2u << 9) | (1u << 2), 0u, "Unknown ESP32 (revision v0.0)")] // package 10
    public void Esp32Packages(uint word3Bits, uint singleCore, string description)
    {
        var read = TraceRegisters.Words((0x3FF5A00C, word3Bits | singleCore));
        Assert.Equal(description, ChipDatabase.Esp32.DescribeChip(read));
    }

    [Fact]
    public void S2RevisionAndName()
    {
        // BLOCK1 w3 = 0x3F41A050: major bits 18–19 = 1, minor hi bit 20 = 1, flash cap bits 21–24 = 2;
        // w4 = 0x3F41A054: minor lo bits 4–6 = 1.
        var read = TraceRegisters.Words((0x3F41A050, (1u << 18) | (1u << 20) | (2u << 21)), (0x3F41A054, 1u << 4));
        Assert.Equal(109, ChipDatabase.Esp32S2.ReadRevision(read));
        Assert.Equal("ESP32-S2FH4 (revision v1.9)", ChipDatabase.Esp32S2.DescribeChip(read));
        Assert.Equal(["Wi-Fi", "Single Core", "240MHz", "Embedded Flash 4MB", "No Embedded PSRAM", "No calibration in BLK2 of efuse"],
            ChipDatabase.Esp32S2.DescribeFeatures(read));
    }

    [Fact]
    public void S3Eco0WorkaroundForcesV0_0()
    {
        // raw: major (w5 bits 24–25) = 1, minor low bits 0; block version 1.1 → v0.0
        var eco0 = TraceRegisters.Words((0x60007058, 1u << 24), (0x60007050, 1u << 24), (0x6000706C, 1));
        Assert.Equal(0, ChipDatabase.Esp32S3.ReadRevision(eco0));
        // same without block version 1.1 → v1.0
        var v1 = TraceRegisters.Words((0x60007058, 1u << 24), (0x60007050, 1u << 24));
        Assert.Equal(100, ChipDatabase.Esp32S3.ReadRevision(v1));
        // minor low bits 2 → not ECO0 → v1.2
        var v12 = TraceRegisters.Words((0x60007058, 1u << 24), (0x60007050, (1u << 24) | (2u << 18)), (0x6000706C, 1));
        Assert.Equal(102, ChipDatabase.Esp32S3.ReadRevision(v12));
    }

    [Fact]
    public void S3DescriptionAndEmbeddedMemories()
    {
        // pkg 1, flash cap 2 (4MB) vendor 5 (BY); PSRAM cap 0b1_00 = 4 (4MB) vendor 2 (AP_1v8)
        var read = TraceRegisters.Words(
            (0x60007050, (1u << 21) | (2u << 27)),
            (0x60007054, 5u | (2u << 7)),
            (0x60007058, 1u << 19));
        Assert.Equal("ESP32-S3-PICO-1 (LGA56) (revision v0.0)", ChipDatabase.Esp32S3.DescribeChip(read));
        Assert.Equal(["Wi-Fi", "BT 5 (LE)", "Dual Core + LP Core", "240MHz", "Embedded Flash 4MB (BY)", "Embedded PSRAM 4MB (AP_1v8)"],
            ChipDatabase.Esp32S3.DescribeFeatures(read));
    }

    [Fact]
    public void C2RevisionPackageAndFlash()
    {
        // BLOCK2 w1 = 0x60008844: minor 16–19 = 4, major 20–21 = 1, package 22–24 = 1; w7: cap 1, vendor 2
        var read = TraceRegisters.Words((0x60008844, (4u << 16) | (1u << 20) | (1u << 22)), (0x6000885C, (1u << 29) | (2u << 24)));
        Assert.Equal("ESP8684H (revision v1.4)", ChipDatabase.Esp32C2.DescribeChip(read));
        Assert.Equal(["Wi-Fi", "BT 5 (LE)", "Single Core", "120MHz", "Embedded Flash 4MB (GD)"], ChipDatabase.Esp32C2.DescribeFeatures(read));
    }

    [Fact]
    public void C6PackageOneIsNamedByFlash()
    {
        var read = TraceRegisters.Words((0x600B0850, (1u << 24) | (1u << 22) | (2u << 18)), (0x600B0854, 2));
        Assert.Equal("ESP32-C6FH8 (QFN32) (revision v1.2)", ChipDatabase.Esp32C6.DescribeChip(read));
        Assert.Equal("Embedded Flash 8MB", ChipDatabase.Esp32C6.DescribeFeatures(read)[^1]);
        Assert.Equal("Unknown Embedded Flash", ChipDatabase.Esp32C6.DescribeFeatures(_ => 0)[^1]);
    }

    [Theory]
    [InlineData("esp32c5", 0x600B484Cu, (1u << 4) | 2u, "ESP32-C5 (revision v1.2)")]
    [InlineData("esp32c61", 0x600B484Cu, (1u << 4) | 1u, "ESP32-C61 (revision v1.1)")]
    [InlineData("esp32h2", 0x600B0850u, (1u << 21) | (3u << 18), "ESP32-H2 (revision v1.3)")]
    [InlineData("esp32p4", 0x5012D04Cu, (3u << 4) | 1u, "ESP32-P4 (revision v3.1)")]
    [InlineData("esp32p4", 0x5012D04Cu, (1u << 23) | 1u, "ESP32-P4 (revision v4.1)")]
    [InlineData("esp32p4", 0x5012D04Cu, 1u << 20, "Unknown ESP32-P4 (revision v0.0)")]
    public void SingleWordLayouts(string key, uint register, uint value, string description) =>
        Assert.Equal(description, ChipDatabase.Get(key).DescribeChip(TraceRegisters.Words((register, value))));

    [Theory]
    [InlineData(0u, 0u, 0u, "ESP8266EX")]
    [InlineData(1u << 4, 0u, 0u, "ESP8285N08")]
    [InlineData((1u << 4) | (1u << 5), 0u, 1u << 26, "ESP8285H16")]
    [InlineData(0u, 1u << 16, 1u << 25, "ESP8285N16")]
    [InlineData(0u, 1u << 16, 0u, "ESP8285")]
    public void Esp8266Description(uint w0, uint w2, uint w3, string description)
    {
        var read = TraceRegisters.Words((0x3FF00050, w0), (0x3FF00058, w2), (0x3FF0005C, w3));
        Assert.Equal(description, ChipDatabase.Esp8266.DescribeChip(read));
        Assert.Equal(description.StartsWith("ESP8285", StringComparison.Ordinal) ? 3 : 2,
            ChipDatabase.Esp8266.DescribeFeatures(read).Count);
    }

    [Fact]
    public void RevisionAndPackageFieldsLieInsideEfuseBlocks()
    {
        foreach (var chip in ChipDatabase.All)
        {
            var fields = (chip.Revision?.Registers ?? [])
                .Concat(new[] { chip.PackageVersion, chip.FlashCap, chip.FlashVendor, chip.PsramCap, chip.PsramVendor }
                    .Where(f => f is not null).SelectMany(f => f!).Select(f => f.Register))
                .Append(chip.MacRegister).Append(chip.MacRegister + 4);
            foreach (var register in fields.Where(r => r != 0x3FF6607C)) // ESP32 APB_CTL_DATE is not an eFuse
                Assert.True(chip.EfuseBlockAt(register) is not null, $"{chip.Name}: 0x{register:X8} not in an eFuse block");
        }
    }

    [Fact]
    public void Esp32FlashVoltageAndSpiPads()
    {
        var fv = ChipDatabase.Esp32.FlashVoltage!;
        Assert.Equal(("a strapping pin", "3.3V"), fv.Decide(_ => 0));
        Assert.Equal(("a strapping pin", "1.8V"), fv.Decide(TraceRegisters.Words((0x3FF44038, 1u << 5))));
        Assert.Equal(("eFuse", "1.8V"), fv.Decide(TraceRegisters.Words((0x3FF5A010, (1u << 16) | (1u << 14)))));
        Assert.Equal(("RTC_CNTL", "1.9V"), fv.Decide(TraceRegisters.Words((0x3FF48074, (1u << 22) | (3u << 29)))));
        Assert.Null(ChipDatabase.Esp32C3.FlashVoltage);

        var pads = ChipDatabase.Esp32.SpiPads!;
        Assert.Equal(0u, pads.AttachValue(Esp32Trace));
        var read = TraceRegisters.Words((0x3FF5A014, 6u | (17u << 5) | (8u << 10) | (16u << 15)), (0x3FF5A00C, 11u << 4));
        Assert.Equal((6u, 17u, 8u, 11u, 16u), pads.Read(read));
        Assert.Equal((11u << 24) | (16u << 18) | (8u << 12) | (17u << 6) | 6u, pads.AttachValue(read));
    }
}
