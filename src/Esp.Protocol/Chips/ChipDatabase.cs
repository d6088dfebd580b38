using Esp.Protocol.Errors;

namespace Esp.Protocol.Chips;

/// <summary>
/// The known chips. Values restate esptool's target classes (esptool/targets/*.py and loader.py at
/// espressif/esptool bb72741ff4fadb2c6958564140e755b44288af32, v5.3.1-52) as data; magic values that current
/// esptool no longer lists come from v4.8.1 / v4.9.dev2 and, where marked, from esptool-js / espflash.
/// </summary>
public static partial class ChipDatabase
{
    private static SpiRegisterMap NewSpi(uint b) => new(b, 0x18, 0x1C, 0x20, 0x24, 0x28, 0x58, false);

    private static MemoryRegion R(string name, uint start, uint end, MemoryKind kind) => new(name, start, end, kind);

    /// <summary>An entry of esptool's table that names memory another entry already describes.</summary>
    private static MemoryRegion A(string name, uint start, uint end, MemoryKind kind) => new(name, start, end, kind) { IsAlias = true };

    private static BitField F(uint register, int shift, int width, int targetShift = 0) => new(register, shift, width, targetShift);

    /// <summary>esptool's PADDING entry (a property: the chip records are initialised in several files, in no set order).</summary>
    private static MemoryRegion Padding => R("PADDING", 0x00000000, 0x00010000, MemoryKind.Padding);

    /// <summary>Read blocks of the S2-style eFuse controller (S2, S3, C3, C5, C6, C61, H2, P4).</summary>
    private static EfuseBlock[] NewEfuseBlocks(uint efuseBase) =>
    [
        new("BLOCK0", efuseBase + 0x2C, 6),
        new("BLOCK1", efuseBase + 0x44, 6),
        new("BLOCK2", efuseBase + 0x5C, 8),
    ];

    /// <summary>The MEMORY_MAP shape of the C6 and its descendants (unified SRAM at 0x40800000, LP RAM at 0x50000000).</summary>
    private static MemoryRegion[] C6StyleMap(uint ramEnd, uint romSplit, uint romEnd, uint flashEnd) =>
    [
        Padding,
        R("DROM", 0x42000000, flashEnd, MemoryKind.FlashData),
        R("DRAM", 0x40800000, ramEnd, MemoryKind.Unified),
        A("BYTE_ACCESSIBLE", 0x40800000, ramEnd, MemoryKind.Dram),
        R("DROM_MASK", romSplit, romEnd, MemoryKind.Rom),
        R("IROM_MASK", 0x40000000, romSplit, MemoryKind.Rom),
        A("IROM", 0x42000000, flashEnd, MemoryKind.FlashCode),
        A("IRAM", 0x40800000, ramEnd, MemoryKind.Iram),
        R("RTC_IRAM", 0x50000000, 0x50004000, MemoryKind.Rtc),
        A("RTC_DRAM", 0x50000000, 0x50004000, MemoryKind.Rtc),
        R("MEM_INTERNAL2", 0x600FE000, 0x60100000, MemoryKind.Rtc),
    ];

    private static IReadOnlyList<ChipDefinition>? _all;

    /// <summary>All chips in esptool's order (built on first use: the records live in several files).</summary>
    public static IReadOnlyList<ChipDefinition> All =>
        _all ??= [Esp8266, Esp32, Esp32S2, Esp32S3, Esp32C2, Esp32C3, Esp32C5, Esp32C6, Esp32C61, Esp32H2, Esp32P4];

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
