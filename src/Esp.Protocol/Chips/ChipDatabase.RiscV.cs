namespace Esp.Protocol.Chips;

/// <summary>The RISC-V chips: ESP32-C2, -C3, -C5, -C6, -C61, -H2, -P4.</summary>
public static partial class ChipDatabase
{
    public static readonly ChipDefinition Esp32C2 = new()
    {
        Key = "esp32c2", Name = "ESP32-C2", ImageChipId = 12,
        // esptool: the flasher stub no longer supports revision 0 (ECO0).
        StubRefusal = (chip, read) => chip.ReadRevision(read) == 0 ? "revision v0.0 (ECO0), which the flasher stub does not support" : null,
        MagicValues = [0x6F51306F, 0x7C41A06F, 0x0C21E06F], DetectBySecurityInfo = true,
        Spi = NewSpi(0x60002000),
        MemoryMap =
        [
            Padding,
            R("DROM", 0x3C000000, 0x3C400000, MemoryKind.FlashData),
            R("DRAM", 0x3FCA0000, 0x3FCE0000, MemoryKind.Dram),
            A("BYTE_ACCESSIBLE", 0x3FC88000, 0x3FD00000, MemoryKind.Dram),
            R("DROM_MASK", 0x3FF00000, 0x3FF50000, MemoryKind.Rom),
            R("IROM_MASK", 0x40000000, 0x40090000, MemoryKind.Rom),
            R("IROM", 0x42000000, 0x42400000, MemoryKind.FlashCode),
            R("IRAM", 0x4037C000, 0x403C0000, MemoryKind.Iram),
        ],
        IromMap = new(0x42000000, 0x42400000), DromMap = new(0x3C000000, 0x3C400000),
        StubLocations =
        [
            new("2", 0x40380000, 0x403816B8, 0x3FCA4000, 0x3FCB6E38, 0x40380F90),
            new("1", 0x40380000, 0x40380D20, 0x3FCA4000, 0x3FCB6C4C, 0x403805DA),
        ],
        MacRegister = 0x60008840, EfuseBase = 0x60008800,
        EfuseBlocks = [new("BLOCK0", 0x6000882C, 2), new("BLOCK1", 0x60008834, 3), new("BLOCK2", 0x60008840, 8)],
        UartClkDivRegister = 0x60000014, UartDateRegister = 0x6000007C,
        FlashFrequencies = new Dictionary<string, byte> { ["60m"] = 0xF, ["30m"] = 0x0, ["20m"] = 0x1, ["15m"] = 0x2 },
        // BLOCK2 word n at 0x60008840 + 4n: w1 bits 16–19 minor, 20–21 major, 22–24 package; w7 bits 24–26 vendor, 29–31 flash.
        Revision = new RevisionLayout([F(0x60008844, 20, 2)], [F(0x60008844, 16, 4)]),
        PackageVersion = [F(0x60008844, 22, 3)],
        PackageNames = new Dictionary<uint, string> { [0] = "ESP32-C2", [1] = "ESP8684H" },
        FlashCap = [F(0x6000885C, 29, 3)],
        FlashVendor = [F(0x6000885C, 24, 3)],
        DescriptionRule = ChipIdentity.ByPackage,
        FeaturesRule = ChipIdentity.Esp32C2Features,
    };

    public static readonly ChipDefinition Esp32C3 = new()
    {
        Key = "esp32c3", Name = "ESP32-C3", ImageChipId = 5,
        // esptool: no stub with Secure Boot on (eFuse EFUSE_RD_REPEAT_DATA2, SECURE_BOOT_EN).
        StubRefusal = (_, read) => (read(0x60008838) & (1u << 20)) != 0 ? "Secure Boot enabled, where the flasher stub does not run" : null,
        MagicValues = [0x6921506F, 0x1B31506F, 0x4881606F, 0x4361606F], DetectBySecurityInfo = true,
        // The C3 ROM queues what arrives while it works in a 2048-byte ring (its code, and measured under QEMU); a
        // whole window is sent at once and the next only when every reply is in, which QEMU's C3 takes (5 dumps of
        // 16384 READ_REGs, 3 reads of 1024 READ_FLASH_SLOWs, nothing lost) where sliding windows make it lose its UART
        // interrupt (docs/fidelity.md). Same sizes as the ESP32: far inside the ring even if every byte is escaped.
        RomWindows = new LoaderWindows(ReadReg: 8, ReadFlashSlow: 6, FlashMd5: 4),
        Spi = NewSpi(0x60002000),
        MemoryMap =
        [
            Padding,
            R("DROM", 0x3C000000, 0x3C800000, MemoryKind.FlashData),
            R("DRAM", 0x3FC80000, 0x3FCE0000, MemoryKind.Dram),
            A("BYTE_ACCESSIBLE", 0x3FC88000, 0x3FD00000, MemoryKind.Dram),
            R("DROM_MASK", 0x3FF00000, 0x3FF20000, MemoryKind.Rom),
            R("IROM_MASK", 0x40000000, 0x40060000, MemoryKind.Rom),
            R("IROM", 0x42000000, 0x42800000, MemoryKind.FlashCode),
            R("IRAM", 0x4037C000, 0x403E0000, MemoryKind.Iram),
            R("RTC_IRAM", 0x50000000, 0x50002000, MemoryKind.Rtc),
            A("RTC_DRAM", 0x50000000, 0x50002000, MemoryKind.Rtc),
            R("MEM_INTERNAL2", 0x600FE000, 0x60100000, MemoryKind.Rtc),
        ],
        IromMap = new(0x42000000, 0x42800000), DromMap = new(0x3C000000, 0x3C800000),
        StubLocations =
        [
            new("2", 0x40380000, 0x403816F8, 0x3FC84000, 0x3FC96E34, 0x40380E9A),
            new("1", 0x40380000, 0x40380EE4, 0x3FC84000, 0x3FC96C58, 0x403806D2),
        ],
        MacRegister = 0x60008844, EfuseBase = 0x60008800, EfuseBlocks = NewEfuseBlocks(0x60008800),
        UartClkDivRegister = 0x60000014, UartDateRegister = 0x6000007C, FixedCrystalMhz = 40,
        // BLOCK1 word n at 0x60008844 + 4n: minor = word5 bit 23 (×8) + word3 bits 18–20; major = word5 bits 24–25.
        Revision = new RevisionLayout(
            [F(0x60008858, 24, 2)],
            [F(0x60008850, 18, 3, 0), F(0x60008858, 23, 1, 3)]),
        PackageVersion = [F(0x60008850, 21, 3)],
        PackageNames = new Dictionary<uint, string>
        {
            [0] = "ESP32-C3 (QFN32)", [1] = "ESP8685 (QFN28)", [2] = "ESP32-C3 AZ (QFN32)", [3] = "ESP8686 (QFN24)",
        },
        FlashCap = [F(0x60008850, 27, 3)],
        FlashVendor = [F(0x60008854, 0, 3)],
        DescriptionRule = ChipIdentity.ByPackage,
        FeaturesRule = ChipIdentity.Esp32C3Features,
    };

    public static readonly ChipDefinition Esp32C5 = new()
    {
        Key = "esp32c5", Name = "ESP32-C5", ImageChipId = 23,
        // 0x1101406F: esptool v4.8.1; 0x63E1406F: esptool v4.9.dev2; 0x5FD1406F: esptool-js / espflash only.
        MagicValues = [0x1101406F, 0x63E1406F, 0x5FD1406F], DetectBySecurityInfo = true,
        Spi = NewSpi(0x60003000),
        MemoryMap =
        [
            Padding,
            R("DROM", 0x42000000, 0x44000000, MemoryKind.FlashData),
            R("DRAM", 0x40800000, 0x40860000, MemoryKind.Unified),
            A("BYTE_ACCESSIBLE", 0x40800000, 0x40860000, MemoryKind.Dram),
            R("DROM_MASK", 0x4003A000, 0x40040000, MemoryKind.Rom),
            R("IROM_MASK", 0x40000000, 0x4003A000, MemoryKind.Rom),
            A("IROM", 0x42000000, 0x44000000, MemoryKind.FlashCode),
            A("IRAM", 0x40800000, 0x40860000, MemoryKind.Iram),
            R("RTC_IRAM", 0x50000000, 0x50004000, MemoryKind.Rtc),
            A("RTC_DRAM", 0x50000000, 0x50004000, MemoryKind.Rtc),
            R("MEM_INTERNAL2", 0x600FE000, 0x60100000, MemoryKind.Rtc),
        ],
        IromMap = new(0x42000000, 0x44000000), DromMap = new(0x42000000, 0x44000000),
        StubLocations =
        [
            new("2", 0x40800000, 0x40801F5C, 0x40840000, 0x40852FE4, 0x408015D2),
            new("1", 0x40800000, 0x4080133C, 0x40840000, 0x40852C58, 0x40800A88),
        ],
        MacRegister = 0x600B4844, EfuseBase = 0x600B4800, EfuseBlocks = NewEfuseBlocks(0x600B4800), HasMacExt = true,
        UartClkDivRegister = 0x60000014, UartDateRegister = 0x6000007C,
        BootloaderOffset = 0x2000, MaxFlashSize = 64u * 1024 * 1024,
        FlashFrequencies = new Dictionary<string, byte> { ["80m"] = 0xF, ["40m"] = 0x0, ["20m"] = 0x2 },
        // BLOCK1 word 2 (0x600B484C): bits 0–3 minor, 4–5 major, 26–28 package.
        Revision = new RevisionLayout([F(0x600B484C, 4, 2)], [F(0x600B484C, 0, 4)]),
        PackageVersion = [F(0x600B484C, 26, 3)],
        PackageNames = new Dictionary<uint, string> { [0] = "ESP32-C5" },
        DescriptionRule = ChipIdentity.ByPackage,
        FeaturesRule = ChipIdentity.Fixed("Wi-Fi 6 (dual-band)", "BT 5 (LE)", "IEEE802.15.4", "Single Core + LP Core", "240MHz"),
    };

    public static readonly ChipDefinition Esp32C6 = new()
    {
        Key = "esp32c6", Name = "ESP32-C6", ImageChipId = 13,
        MagicValues = [0x2CE0806F], DetectBySecurityInfo = true,
        Spi = NewSpi(0x60003000),
        MemoryMap = C6StyleMap(0x40880000, romSplit: 0x4004AC00, romEnd: 0x40050000, flashEnd: 0x43000000),
        IromMap = new(0x42000000, 0x42800000), DromMap = new(0x42800000, 0x43000000),
        StubLocations =
        [
            new("2", 0x40800000, 0x40801AF4, 0x40840000, 0x40852FE4, 0x408011BC),
            new("1", 0x40800000, 0x40800E90, 0x40840000, 0x40852C54, 0x408006C2),
        ],
        MacRegister = 0x600B0844, EfuseBase = 0x600B0800, EfuseBlocks = NewEfuseBlocks(0x600B0800), HasMacExt = true,
        UartClkDivRegister = 0x60000014, UartDateRegister = 0x6000007C, FixedCrystalMhz = 40,
        // 80m is deliberately encoded as 0x0 (esptool: workaround for a wrong MSPI divider in the ROM).
        FlashFrequencies = new Dictionary<string, byte> { ["80m"] = 0x0, ["40m"] = 0x0, ["20m"] = 0x2 },
        // BLOCK1 word 3 (0x600B0850): bits 18–21 minor, 22–23 major, 24–26 package; word 4 bits 0–2 flash cap.
        Revision = new RevisionLayout([F(0x600B0850, 22, 2)], [F(0x600B0850, 18, 4)]),
        PackageVersion = [F(0x600B0850, 24, 3)],
        FlashCap = [F(0x600B0854, 0, 3)],
        DescriptionRule = ChipIdentity.Esp32C6Description,
        FeaturesRule = ChipIdentity.Esp32C6Features,
    };

    public static readonly ChipDefinition Esp32C61 = new()
    {
        Key = "esp32c61", Name = "ESP32-C61", ImageChipId = 20,
        // 0x33F0206F, 0x2421606F: esptool v4.8.1; 0x4F81606F: esptool-js; 0x7211606F: espflash.
        MagicValues = [0x33F0206F, 0x2421606F, 0x4F81606F, 0x7211606F], DetectBySecurityInfo = true,
        Spi = NewSpi(0x60003000),
        MemoryMap = C6StyleMap(0x40860000, romSplit: 0x4004AC00, romEnd: 0x40050000, flashEnd: 0x44000000),
        // esptool's C61 class does not override the C6 flash windows.
        IromMap = new(0x42000000, 0x42800000), DromMap = new(0x42800000, 0x43000000),
        StubLocations = [new("2", 0x40800000, 0x40801998, 0x40804000, 0x40816E34, 0x40801130)],
        MacRegister = 0x600B4844, EfuseBase = 0x600B4800, EfuseBlocks = NewEfuseBlocks(0x600B4800),
        UartClkDivRegister = 0x60000014, UartDateRegister = 0x6000007C, FixedCrystalMhz = 40,
        FlashFrequencies = new Dictionary<string, byte> { ["80m"] = 0xF, ["40m"] = 0x0, ["20m"] = 0x2 },
        // BLOCK1 word 2 (0x600B484C): bits 0–3 minor, 4–5 major, 26–28 package.
        Revision = new RevisionLayout([F(0x600B484C, 4, 2)], [F(0x600B484C, 0, 4)]),
        PackageVersion = [F(0x600B484C, 26, 3)],
        PackageNames = new Dictionary<uint, string> { [0] = "ESP32-C61" },
        DescriptionRule = ChipIdentity.ByPackage,
        FeaturesRule = ChipIdentity.Fixed("Wi-Fi 6", "BT 5 (LE)", "Single Core", "160MHz"),
    };

    public static readonly ChipDefinition Esp32H2 = new()
    {
        Key = "esp32h2", Name = "ESP32-H2", ImageChipId = 16,
        // 0xD7B73E80: esptool v4.8.1; 0x97E30068: esptool-js only.
        MagicValues = [0xD7B73E80, 0x97E30068], DetectBySecurityInfo = true,
        Spi = NewSpi(0x60003000),
        // esptool's H2 class inherits the C6 memory map and flash windows.
        MemoryMap = C6StyleMap(0x40880000, romSplit: 0x4004AC00, romEnd: 0x40050000, flashEnd: 0x43000000),
        IromMap = new(0x42000000, 0x42800000), DromMap = new(0x42800000, 0x43000000),
        StubLocations =
        [
            new("2", 0x40800000, 0x408016E8, 0x40830000, 0x40842E34, 0x40800E92),
            new("1", 0x40800000, 0x40800E90, 0x40830000, 0x40842C54, 0x408006C2),
        ],
        MacRegister = 0x600B0844, EfuseBase = 0x600B0800, EfuseBlocks = NewEfuseBlocks(0x600B0800), HasMacExt = true,
        UartClkDivRegister = 0x60000014, UartDateRegister = 0x6000007C, FixedCrystalMhz = 32,
        FlashFrequencies = new Dictionary<string, byte> { ["48m"] = 0xF, ["24m"] = 0x0, ["16m"] = 0x1, ["12m"] = 0x2 },
        // BLOCK1 word 3 (0x600B0850): bits 18–20 minor, 21–22 major; word 4 bits 0–2 package.
        Revision = new RevisionLayout([F(0x600B0850, 21, 2)], [F(0x600B0850, 18, 3)]),
        PackageVersion = [F(0x600B0854, 0, 3)],
        PackageNames = new Dictionary<uint, string> { [0] = "ESP32-H2" },
        DescriptionRule = ChipIdentity.ByPackage,
        FeaturesRule = ChipIdentity.Fixed("BT 5 (LE)", "IEEE802.15.4", "Single Core", "96MHz"),
    };

    public static readonly ChipDefinition Esp32P4 = new()
    {
        Key = "esp32p4", Name = "ESP32-P4", ImageChipId = 18,
        HasUsbOtg = true,
        // 0x0, 0x0ADDBAD0: esptool v4.8.1; 0x07039AD9: esptool-js only.
        MagicValues = [0x00000000, 0x0ADDBAD0, 0x07039AD9], DetectBySecurityInfo = true,
        Spi = NewSpi(0x5008D000),
        MemoryMap =
        [
            Padding,
            R("DROM", 0x40000000, 0x4C000000, MemoryKind.FlashData),
            R("DRAM", 0x4FF00000, 0x4FFA0000, MemoryKind.Unified),
            A("BYTE_ACCESSIBLE", 0x4FF00000, 0x4FFA0000, MemoryKind.Dram),
            R("DROM_MASK", 0x4FC00000, 0x4FC20000, MemoryKind.Rom),
            A("IROM_MASK", 0x4FC00000, 0x4FC20000, MemoryKind.Rom),
            A("IROM", 0x40000000, 0x4C000000, MemoryKind.FlashCode),
            A("IRAM", 0x4FF00000, 0x4FFA0000, MemoryKind.Iram),
            R("RTC_IRAM", 0x50108000, 0x50110000, MemoryKind.Rtc),
            A("RTC_DRAM", 0x50108000, 0x50110000, MemoryKind.Rtc),
            R("MEM_INTERNAL2", 0x600FE000, 0x60100000, MemoryKind.Rtc),
        ],
        IromMap = new(0x40000000, 0x4C000000), DromMap = new(0x40000000, 0x4C000000),
        StubLocations =
        [
            new("2", 0x4FF50000, 0x4FF51FF0, 0x4FF60000, 0x4FF72E84, 0x4FF51456),
            new("2-rev1", 0x4FF10000, 0x4FF11FF0, 0x4FF50000, 0x4FF62E84, 0x4FF11456),
            new("1-rev1", 0x4FF10000, 0x4FF11518, 0x4FF50000, 0x4FF62CA0, 0x4FF10BA0),
        ],
        MacRegister = 0x5012D044, EfuseBase = 0x5012D000, EfuseBlocks = NewEfuseBlocks(0x5012D000),
        // esptool inherits the ESP32's UART_CLKDIV_REG (0x3FF40014) for the P4 but never reads it (fixed 40 MHz);
        // 0x500CA014 is UART0's CLKDIV on the P4.
        UartClkDivRegister = 0x500CA014,
        UartDateRegister = 0x500CA08C, FixedCrystalMhz = 40, BootloaderOffset = 0x2000,
        MaxFlashSize = 64u * 1024 * 1024,
        // BLOCK1 word 2 (0x5012D04C): bits 0–3 minor; major = bit 23 (×4) + bits 4–5; bits 20–22 package.
        Revision = new RevisionLayout([F(0x5012D04C, 4, 2), F(0x5012D04C, 23, 1, 2)], [F(0x5012D04C, 0, 4)]),
        PackageVersion = [F(0x5012D04C, 20, 3)],
        PackageNames = new Dictionary<uint, string> { [0] = "ESP32-P4" },
        DescriptionRule = ChipIdentity.ByPackage,
        FeaturesRule = ChipIdentity.Fixed("Dual Core + LP Core", "400MHz"),
    };
}
