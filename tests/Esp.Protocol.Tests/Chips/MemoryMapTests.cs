using Esp.Protocol.Chips;

namespace Esp.Protocol.Tests.Chips;

public class MemoryMapTests
{
    public static TheoryData<string> Keys => new(ChipDatabase.All.Select(c => c.Key));

    [Theory]
    [MemberData(nameof(Keys))]
    public void RegionsAreWellFormed(string key)
    {
        foreach (var r in ChipDatabase.Get(key).MemoryMap)
            Assert.True(r.Start < r.End, $"{key} {r.Name}");
    }

    [Theory]
    [MemberData(nameof(Keys))]
    public void PrimaryRamRegionsDoNotOverlap(string key)
    {
        var ram = ChipDatabase.Get(key).MemoryMap.Where(r => r.IsRam && !r.IsAlias).ToList();
        Assert.NotEmpty(ram);
        for (int i = 0; i < ram.Count; i++)
            for (int j = i + 1; j < ram.Count; j++)
                Assert.False(ram[i].Overlaps(ram[j].Start, ram[j].Size), $"{key}: {ram[i].Name} overlaps {ram[j].Name}");
    }

    [Theory]
    [MemberData(nameof(Keys))]
    public void AliasesSitOnMemoryOfTheSameFamily(string key)
    {
        // Every alias overlaps at least one primary region (it renames memory that is otherwise described).
        var map = ChipDatabase.Get(key).MemoryMap;
        foreach (var alias in map.Where(r => r.IsAlias))
            Assert.Contains(map, p => !p.IsAlias && p.Overlaps(alias.Start, alias.Size));
    }

    [Theory]
    [MemberData(nameof(Keys))]
    public void StubRangesLieInRam(string key)
    {
        var chip = ChipDatabase.Get(key);
        Assert.NotEmpty(chip.StubLocations);
        foreach (var stub in chip.StubLocations)
        {
            Assert.True(stub.TextStart < stub.TextEnd && stub.DataStart < stub.DataEnd);
            Assert.InRange(stub.Entry, stub.TextStart, stub.TextEnd - 1);
            Assert.True(InRam(chip, stub.DataStart, stub.DataEnd), $"{key} stub {stub.Version} data");
            if (chip.IsEsp8266)
            {
                // esptool's ESP8266 IRAM entry ends at 0x40108000 but both stubs load above it, inside the
                // 64 KiB instruction RAM that is usable while the ROM runs with the cache off.
                Assert.False(InRam(chip, stub.TextStart, stub.TextEnd));
                Assert.True(stub.TextStart >= 0x40100000 && stub.TextEnd <= 0x40110000);
            }
            else
            {
                Assert.True(InRam(chip, stub.TextStart, stub.TextEnd), $"{key} stub {stub.Version} text");
            }
        }
    }

    private static bool InRam(ChipDefinition chip, uint start, uint end) =>
        chip.MemoryMap.Any(r => r.IsRam && r.Contains(start, end - start));

    [Fact]
    public void Esp32TableMatchesEsptoolIncludingAliases()
    {
        var chip = ChipDatabase.Esp32;
        Assert.Equal(15, chip.MemoryMap.Length);
        Assert.Equal(["BYTE_ACCESSIBLE", "DRAM", "DIRAM_DRAM"], chip.RegionNamesAt(0x3FFE0000));
        Assert.Equal("DRAM", chip.RegionAt(0x3FFE0000)!.Name);
        Assert.Equal(MemoryKind.Rom, chip.RegionAt(0x40000000)!.Kind); // mask ROM, also named "IROM" by esptool
        Assert.Equal(MemoryKind.FlashCode, chip.RegionAt(0x400D0000)!.Kind);
        Assert.Equal(MemoryKind.Padding, chip.RegionAt(0)!.Kind);
        Assert.Equal(new MemoryRegion("IRAM", 0x40080000, 0x400A0000, MemoryKind.Iram), chip.RegionNamed("IRAM"));
    }

    [Fact]
    public void UnifiedRamChipsResolveToThePrimaryEntry()
    {
        Assert.Equal("DRAM", ChipDatabase.Esp32C6.RegionAt(0x40810000)!.Name);
        Assert.Equal(["DRAM", "BYTE_ACCESSIBLE", "IRAM"], ChipDatabase.Esp32C6.RegionNamesAt(0x40810000));
        Assert.Equal(["DROM", "IROM"], ChipDatabase.Esp32C6.RegionNamesAt(0x42000000));
        Assert.Equal(0x40860000u, ChipDatabase.Esp32C5.RegionNamed("IRAM")!.End);
        Assert.Equal(0x4003A000u, ChipDatabase.Esp32C5.RegionNamed("IROM_MASK")!.End);
        Assert.Equal(0x4FFA0000u, ChipDatabase.Esp32P4.RegionNamed("DRAM")!.End);
        Assert.Equal(0x4001A100u, ChipDatabase.Esp32S3.RegionNamed("IROM_MASK")!.End);
    }

    [Fact]
    public void FlashWindows()
    {
        Assert.True(ChipDatabase.Esp32.IromMap.Contains(0x400D0018));
        Assert.True(ChipDatabase.Esp32.DromMap.Contains(0x3F400020));
        Assert.True(ChipDatabase.Esp8266.IromMap.Contains(0x40201010));
        Assert.False(ChipDatabase.Esp8266.DromMap.Contains(0x3F400020));
        Assert.Equal(new AddressRange(0x42800000, 0x43000000), ChipDatabase.Esp32H2.DromMap);
        foreach (var chip in ChipDatabase.All.Where(c => !c.IsEsp8266))
            Assert.True(chip.IromMap.Start < chip.IromMap.End && chip.DromMap.Start < chip.DromMap.End, chip.Name);
    }

    [Fact]
    public void P4HasStubsForBothRevisionRanges() =>
        Assert.Equal(["2", "2-rev1", "1-rev1"], ChipDatabase.Esp32P4.StubLocations.Select(s => s.Version));

    [Fact]
    public async Task RegisterReadsEvaluateEachAddressOnce()
    {
        int calls = 0;
        var result = await RegisterReads.EvaluateAsync(
            read => read(8) + read(4) + read(8),
            a => { calls++; return Task.FromResult(a); });
        Assert.Equal(20u, result);
        Assert.Equal(2, calls);
        Assert.Equal([8u, 4u], RegisterReads.AddressesRead(read => read(8) + read(4) + read(8)));
    }
}
