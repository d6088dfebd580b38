using Esp.Protocol.Errors;

namespace Esp.Protocol.Chips;

/// <summary>The known chips. Values come from protocol-facts (§3.5, §3.6, §5, §8.3, §9).</summary>
public static class ChipDatabase
{
    private static SpiRegisterMap NewSpi(uint b) => new(b, 0x18, 0x1C, 0x20, 0x24, 0x28, 0x58, false);

    private static MemoryRegion R(string name, uint start, uint end, MemoryKind kind) => new(name, start, end, kind);

    public static readonly ChipDefinition Esp8266 = new()
    {
        Key = "esp8266", Name = "ESP8266", ImageChipId = null,
        MagicValues = [0xFFF0C101], RomStatusBytes = 2, RomFeatures = RomFeatures.None,
        Spi = new(0x60000200, 0x1C, 0x20, 0x24, null, null, 0x40, true),
        MemoryMap =
        [
            R("DPORT", 0x3FF00000, 0x3FF00010, MemoryKind.Peripheral),
            R("DRAM", 0x3FFE8000, 0x40000000, MemoryKind.Dram),
            R("IRAM", 0x40100000, 0x40110000, MemoryKind.Iram),
            R("IROM", 0x40201010, 0x402E1010, MemoryKind.FlashCode),
        ],
        StubLocations =
        [
            new("2", 0x4010C500, 0x4010F1C0, 0x3FFE8100, 0x3FFFB204, 0x4010C504),
            new("1", 0x4010D000, 0x4010F054, 0x3FFE8100, 0x3FFFAFAC, 0x4010D004),
        ],
        MacLayout = MacLayout.Esp8266Otp, MacRegister = 0x3FF00050, EfuseBase = 0x3FF00050,
        UartClkDivRegister = 0x60000014, CrystalClkDivider = 2, BootloaderOffset = 0,
        FlashSizes = ChipDefinition.Esp8266FlashSizes,
    };

    public static readonly ChipDefinition Esp32 = new()
    {
        Key = "esp32", Name = "ESP32", ImageChipId = 0,
        MagicValues = [0x00F01D83],
        RomFeatures = RomFeatures.All & ~RomFeatures.SecurityInfo & ~RomFeatures.EncryptedFlag,
        Spi = new(0x3FF42000, 0x1C, 0x20, 0x24, 0x28, 0x2C, 0x80, true),
        MemoryMap =
        [
            R("DROM", 0x3F400000, 0x3F800000, MemoryKind.FlashData),
            R("EXTRAM_DATA", 0x3F800000, 0x3FC00000, MemoryKind.ExternalRam),
            R("RTC_DRAM", 0x3FF80000, 0x3FF82000, MemoryKind.Rtc),
            R("DRAM", 0x3FFAE000, 0x40000000, MemoryKind.Dram),
            R("IROM_MASK", 0x40000000, 0x40070000, MemoryKind.Rom),
            R("IRAM", 0x40070000, 0x400C0000, MemoryKind.Iram),
            R("RTC_IRAM", 0x400C0000, 0x400C2000, MemoryKind.Rtc),
            R("IROM", 0x400D0000, 0x40400000, MemoryKind.FlashCode),
            R("RTC_DATA", 0x50000000, 0x50002000, MemoryKind.Rtc),
        ],
        StubLocations =
        [
            new("2", 0x400A8000, 0x400A9938, 0x3FFCC000, 0x3FFDEE40, 0x400A902C),
            new("1", 0x400BE000, 0x400BEDD4, 0x3FFCC000, 0x3FFDEC48, 0x400BE658),
        ],
        MacLayout = MacLayout.Esp32Blk0, MacRegister = 0x3FF5A004, EfuseBase = 0x3FF5A000,
        UartClkDivRegister = 0x3FF40014, BootloaderOffset = 0x1000,
        // Major revision: bits from two eFuse words and APB_CTL_DATE, mapped {0→0, 1→1, 3→2, 7→3}.
        Revision = new RevisionLayout(
            [new(0x3FF5A00C, 15, 1, 0), new(0x3FF5A014, 20, 1, 1), new(0x3FF6607C, 31, 1, 2)],
            [new(0x3FF5A014, 24, 2)])
        { MajorMap = new Dictionary<uint, int> { [0] = 0, [1] = 1, [3] = 2, [7] = 3 } },
    };

    public static readonly ChipDefinition Esp32S2 = new()
    {
        Key = "esp32s2", Name = "ESP32-S2", ImageChipId = 2,
        MagicValues = [0x000007C6],
        Spi = NewSpi(0x3F402000),
        MemoryMap =
        [
            R("DROM", 0x3F000000, 0x3FF80000, MemoryKind.FlashData),
            R("DRAM", 0x3FFB0000, 0x40000000, MemoryKind.Dram),
            R("IROM_MASK", 0x40000000, 0x4001A100, MemoryKind.Rom),
            R("IRAM", 0x40020000, 0x40070000, MemoryKind.Iram),
            R("IROM", 0x40080000, 0x40800000, MemoryKind.FlashCode),
            R("RTC", 0x50000000, 0x50002000, MemoryKind.Rtc),
        ],
        StubLocations = [new("2", 0x40028000, 0x400299C8, 0x3FFD0000, 0x3FFE2E94, 0x400290A4)],
        MacRegister = 0x3F41A044, EfuseBase = 0x3F41A000, UartClkDivRegister = 0x3F400014,
        FixedCrystalMhz = 40, BootloaderOffset = 0x1000,
    };

    public static readonly ChipDefinition Esp32S3 = new()
    {
        Key = "esp32s3", Name = "ESP32-S3", ImageChipId = 9,
        MagicValues = [0x00000009], DetectBySecurityInfo = true,
        Spi = NewSpi(0x60002000),
        MemoryMap =
        [
            R("DROM", 0x3C000000, 0x3D000000, MemoryKind.FlashData),
            R("DRAM", 0x3FC88000, 0x3FD00000, MemoryKind.Dram),
            R("IROM_MASK", 0x40000000, 0x40060000, MemoryKind.Rom),
            R("IRAM", 0x40370000, 0x403E0000, MemoryKind.Iram),
            R("IROM", 0x42000000, 0x42800000, MemoryKind.FlashCode),
            R("RTC", 0x50000000, 0x50002000, MemoryKind.Rtc),
        ],
        StubLocations = [new("2", 0x40378000, 0x40379E98, 0x3FCA0000, 0x3FCB2EC8, 0x40379524)],
        MacRegister = 0x60007044, EfuseBase = 0x60007000, UartClkDivRegister = 0x60000014,
        UartDateRegister = 0x60000080, FixedCrystalMhz = 40, MaxFlashSize = 64u * 1024 * 1024,
    };

    public static readonly ChipDefinition Esp32C2 = new()
    {
        Key = "esp32c2", Name = "ESP32-C2", ImageChipId = 12,
        MagicValues = [0x6F51306F, 0x7C41A06F, 0x0C21E06F], DetectBySecurityInfo = true,
        Spi = NewSpi(0x60002000),
        MemoryMap =
        [
            R("DROM", 0x3C000000, 0x3C400000, MemoryKind.FlashData),
            R("DRAM", 0x3FCA0000, 0x3FCE0000, MemoryKind.Dram),
            R("IROM_MASK", 0x40000000, 0x40090000, MemoryKind.Rom),
            R("IRAM", 0x4037C000, 0x403C0000, MemoryKind.Iram),
            R("IROM", 0x42000000, 0x42400000, MemoryKind.FlashCode),
        ],
        StubLocations = [new("2", 0x40380000, 0x403816B8, 0x3FCA4000, 0x3FCB6E38, 0x40380F90)],
        MacRegister = 0x60008840, EfuseBase = 0x60008800, UartClkDivRegister = 0x60000014,
        UartDateRegister = 0x6000007C,
        FlashFrequencies = new Dictionary<string, byte> { ["60m"] = 0xF, ["30m"] = 0x0, ["20m"] = 0x1, ["15m"] = 0x2 },
    };

    public static readonly ChipDefinition Esp32C3 = new()
    {
        Key = "esp32c3", Name = "ESP32-C3", ImageChipId = 5,
        MagicValues = [0x6921506F, 0x1B31506F, 0x4881606F, 0x4361606F], DetectBySecurityInfo = true,
        Spi = NewSpi(0x60002000),
        MemoryMap =
        [
            R("DROM", 0x3C000000, 0x3C800000, MemoryKind.FlashData),
            R("DRAM", 0x3FC80000, 0x3FCE0000, MemoryKind.Dram),
            R("DROM_MASK", 0x3FF00000, 0x3FF20000, MemoryKind.Rom),
            R("IROM_MASK", 0x40000000, 0x40060000, MemoryKind.Rom),
            R("IRAM", 0x4037C000, 0x403E0000, MemoryKind.Iram),
            R("IROM", 0x42000000, 0x42800000, MemoryKind.FlashCode),
            R("RTC", 0x50000000, 0x50002000, MemoryKind.Rtc),
        ],
        StubLocations =
        [
            new("2", 0x40380000, 0x403816F8, 0x3FC84000, 0x3FC96E34, 0x40380E9A),
            new("1", 0x40380000, 0x40380EE4, 0x3FC84000, 0x3FC96C58, 0x403806D2),
        ],
        MacRegister = 0x60008844, EfuseBase = 0x60008800, UartClkDivRegister = 0x60000014,
        UartDateRegister = 0x6000007C, FixedCrystalMhz = 40,
        // BLOCK1 word n at 0x60008844 + 4n: minor = word5 bit 23 (×8) + word3 bits 18–20; major = word5 bits 24–25.
        Revision = new RevisionLayout(
            [new(0x60008858, 24, 2)],
            [new(0x60008850, 18, 3, 0), new(0x60008858, 23, 1, 3)]),
    };

    public static readonly ChipDefinition Esp32C5 = new()
    {
        Key = "esp32c5", Name = "ESP32-C5", ImageChipId = 23,
        MagicValues = [0x1101406F, 0x63E1406F, 0x5FD1406F], DetectBySecurityInfo = true,
        Spi = NewSpi(0x60003000),
        MemoryMap = UnifiedMap(0x40800000, 0x40860000),
        StubLocations = [new("2", 0x40800000, 0x40801F5C, 0x40840000, 0x40852FE4, 0x408015D2)],
        MacRegister = 0x600B4844, EfuseBase = 0x600B4800, UartClkDivRegister = 0x60000014,
        BootloaderOffset = 0x2000, MaxFlashSize = 64u * 1024 * 1024,
        FlashFrequencies = new Dictionary<string, byte> { ["80m"] = 0xF, ["40m"] = 0x0, ["20m"] = 0x2 },
    };

    public static readonly ChipDefinition Esp32C6 = new()
    {
        Key = "esp32c6", Name = "ESP32-C6", ImageChipId = 13,
        MagicValues = [0x2CE0806F], DetectBySecurityInfo = true,
        Spi = NewSpi(0x60003000),
        MemoryMap = UnifiedMap(0x40800000, 0x40880000),
        StubLocations = [new("2", 0x40800000, 0x40801AF4, 0x40840000, 0x40852FE4, 0x408011BC)],
        MacRegister = 0x600B0844, EfuseBase = 0x600B0800, UartClkDivRegister = 0x60000014,
        FixedCrystalMhz = 40,
        FlashFrequencies = new Dictionary<string, byte> { ["80m"] = 0x0, ["40m"] = 0x0, ["20m"] = 0x2 },
    };

    public static readonly ChipDefinition Esp32C61 = new()
    {
        Key = "esp32c61", Name = "ESP32-C61", ImageChipId = 20,
        MagicValues = [0x33F0206F, 0x2421606F, 0x4F81606F, 0x7211606F], DetectBySecurityInfo = true,
        Spi = NewSpi(0x60003000),
        MemoryMap = UnifiedMap(0x40800000, 0x40860000),
        StubLocations = [new("2", 0x40800000, 0x40801998, 0x40804000, 0x40816E34, 0x40801130)],
        MacRegister = 0x600B4844, EfuseBase = 0x600B4800, UartClkDivRegister = 0x60000014,
        FixedCrystalMhz = 40,
        FlashFrequencies = new Dictionary<string, byte> { ["80m"] = 0xF, ["40m"] = 0x0, ["20m"] = 0x2 },
    };

    public static readonly ChipDefinition Esp32H2 = new()
    {
        Key = "esp32h2", Name = "ESP32-H2", ImageChipId = 16,
        MagicValues = [0xD7B73E80, 0x97E30068], DetectBySecurityInfo = true,
        Spi = NewSpi(0x60003000),
        MemoryMap = UnifiedMap(0x40800000, 0x40880000),
        StubLocations = [new("2", 0x40800000, 0x408016E8, 0x40830000, 0x40842E34, 0x40800E92)],
        MacRegister = 0x600B0844, EfuseBase = 0x600B0800, UartClkDivRegister = 0x60000014,
        FixedCrystalMhz = 32,
        FlashFrequencies = new Dictionary<string, byte> { ["48m"] = 0xF, ["24m"] = 0x0, ["16m"] = 0x1, ["12m"] = 0x2 },
    };

    public static readonly ChipDefinition Esp32P4 = new()
    {
        Key = "esp32p4", Name = "ESP32-P4", ImageChipId = 18,
        MagicValues = [0x00000000, 0x0ADDBAD0, 0x07039AD9], DetectBySecurityInfo = true,
        Spi = NewSpi(0x5008D000),
        MemoryMap =
        [
            R("IROM_MASK", 0x4FC00000, 0x4FC20000, MemoryKind.Rom),
            R("RAM", 0x4FF00000, 0x4FFA0000, MemoryKind.Unified),
            R("FLASH", 0x40000000, 0x44000000, MemoryKind.FlashCode),
        ],
        StubLocations =
        [
            new("2", 0x4FF50000, 0x4FF51FF0, 0x4FF60000, 0x4FF72E84, 0x4FF51456),
            new("2-rev1", 0x4FF10000, 0x4FF11FF0, 0x4FF50000, 0x4FF62E84, 0x4FF11456),
        ],
        MacRegister = 0x5012D044, EfuseBase = 0x5012D000, UartClkDivRegister = 0x500CA014,
        UartDateRegister = 0x500CA08C, FixedCrystalMhz = 40, BootloaderOffset = 0x2000,
        MaxFlashSize = 64u * 1024 * 1024,
    };

    private static MemoryRegion[] UnifiedMap(uint ramStart, uint ramEnd) =>
    [
        R("IROM_MASK", 0x40000000, 0x40050000, MemoryKind.Rom),
        R("IROM", 0x42000000, 0x42800000, MemoryKind.FlashCode),
        R("DROM", 0x42800000, 0x43000000, MemoryKind.FlashData),
        R("RAM", ramStart, ramEnd, MemoryKind.Unified),
        R("LP_RAM", 0x50000000, 0x50004000, MemoryKind.Rtc),
    ];

    /// <summary>All chips in esptool's order.</summary>
    public static IReadOnlyList<ChipDefinition> All { get; } =
        [Esp8266, Esp32, Esp32S2, Esp32S3, Esp32C2, Esp32C3, Esp32C5, Esp32C6, Esp32C61, Esp32H2, Esp32P4];

    /// <summary>Finds a chip by esptool's name, accepting <c>esp32-c3</c>, <c>ESP32C3</c> and similar spellings.</summary>
    public static ChipDefinition Get(string name)
    {
        return TryGet(name) ?? throw new EspException(EspErrorCode.UnknownChip, $"Unknown chip '{name}'.");
    }

    public static ChipDefinition? TryGet(string name)
    {
        var key = Normalize(name);
        return All.FirstOrDefault(c => c.Key == key);
    }

    public static string Normalize(string name) =>
        new string(name.Where(ch => ch is not ('-' or '_' or '(' or ')' or ' ')).ToArray()).ToLowerInvariant();

    public static ChipDefinition? ByImageChipId(ushort id) => All.FirstOrDefault(c => c.ImageChipId == id);

    /// <summary>Chips that current esptool identifies by the magic word (ESP8266, ESP32, ESP32-S2).</summary>
    public static ChipDefinition? ByMagic(uint magic) =>
        All.FirstOrDefault(c => !c.DetectBySecurityInfo && c.MagicValues.Contains(magic))
        ?? All.FirstOrDefault(c => c.MagicValues.Contains(magic));
}
