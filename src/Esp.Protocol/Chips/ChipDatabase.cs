using Esp.Protocol.Errors;

namespace Esp.Protocol.Chips;

/// <summary>
/// The known chips. Values restate esptool's target classes (esptool/targets/*.py and loader.py at
/// espressif/esptool bb72741ff4fadb2c6958564140e755b44288af32, v5.3.1-52) as data; magic values that current
/// esptool no longer lists come from v4.8.1 / v4.9.dev2 and, where marked, from esptool-js / espflash.
/// </summary>
public static class ChipDatabase
{
    private static SpiRegisterMap NewSpi(uint b) => new(b, 0x18, 0x1C, 0x20, 0x24, 0x28, 0x58, false);

    private static MemoryRegion R(string name, uint start, uint end, MemoryKind kind) => new(name, start, end, kind);

    /// <summary>An entry of esptool's table that names memory another entry already describes.</summary>
    private static MemoryRegion A(string name, uint start, uint end, MemoryKind kind) => new(name, start, end, kind) { IsAlias = true };

    private static BitField F(uint register, int shift, int width, int targetShift = 0) => new(register, shift, width, targetShift);

    private static readonly MemoryRegion Padding = R("PADDING", 0x00000000, 0x00010000, MemoryKind.Padding);

    /// <summary>Read blocks of the S2-style eFuse controller (S2, S3, C3, C5, C6, C61, H2, P4).</summary>
    private static EfuseBlock[] NewEfuseBlocks(uint efuseBase) =>
    [
        new("BLOCK0", efuseBase + 0x2C, 6),
        new("BLOCK1", efuseBase + 0x44, 6),
        new("BLOCK2", efuseBase + 0x5C, 8),
    ];

    public static readonly ChipDefinition Esp8266 = new()
    {
        Key = "esp8266", Name = "ESP8266", ImageChipId = null,
        MagicValues = [0xFFF0C101], RomStatusBytes = 2, RomFeatures = RomFeatures.None,
        Spi = new(0x60000200, 0x1C, 0x20, 0x24, null, null, 0x40, true),
        // esptool's table. The stubs load their text at 0x4010C500/0x4010D000, above this IRAM entry's end: the ROM
        // runs with the instruction cache off, so 0x40108000–0x40110000 is usable IRAM then (LoaderOnlyRam).
        MemoryMap =
        [
            R("DPORT", 0x3FF00000, 0x3FF00010, MemoryKind.Peripheral),
            R("DRAM", 0x3FFE8000, 0x40000000, MemoryKind.Dram),
            R("IRAM", 0x40100000, 0x40108000, MemoryKind.Iram),
            R("IROM", 0x40201010, 0x402E1010, MemoryKind.FlashCode),
        ],
        LoaderOnlyRam = [R("IRAM_NO_CACHE", 0x40108000, 0x40110000, MemoryKind.Iram)],
        IromMap = new(0x40200000, 0x40300000),
        StubLocations =
        [
            new("2", 0x4010C500, 0x4010F1C0, 0x3FFE8100, 0x3FFFB204, 0x4010C504),
            new("1", 0x4010D000, 0x4010F054, 0x3FFE8100, 0x3FFFAFAC, 0x4010D004),
        ],
        MacLayout = MacLayout.Esp8266Otp, MacRegister = 0x3FF00050, EfuseBase = 0x3FF00050,
        EfuseBlocks = [new("OTP", 0x3FF00050, 4)],
        UartClkDivRegister = 0x60000014, CrystalClkDivider = 2, BootloaderOffset = 0,
        FlashSizes = ChipDefinition.Esp8266FlashSizes,
        DescriptionRule = ChipIdentity.Esp8266Description,
        FeaturesRule = ChipIdentity.Esp8266Features,
    };

    public static readonly ChipDefinition Esp32 = new()
    {
        Key = "esp32", Name = "ESP32", ImageChipId = 0,
        MagicValues = [0x00F01D83],
        RomFeatures = RomFeatures.All & ~RomFeatures.SecurityInfo & ~RomFeatures.EncryptedFlag,
        // The ESP32 ROM queues what arrives while it works in a 256-byte ring and loses whole laps beyond it (measured on
        // its real code under QEMU, docs/fidelity.md). These windows stay under 256 bytes even if every byte of every
        // request had to be escaped: 8 READ_REGs ≤ 208, 6 READ_FLASH_SLOWs ≤ 204, 4 MD5s ≤ 200 bytes. Run there: 1024
        // READ_REGs and READ_FLASH_SLOWs in windows up to 32 and 256 MD5s up to 8, three times each, lost nothing.
        RomWindows = new LoaderWindows(ReadReg: 8, ReadFlashSlow: 6, FlashMd5: 4),
        RomInflateOverruns = true,
        // The ROM derives its UART clock from an 8 MHz oscillator that drifts; esptool scales the rate it sends by the
        // clock RTCCALICFG1 and the CK8M eFuse give (40 or 26 MHz nominal).
        RomUartClock = read =>
        {
            ulong est = ((read(0x3FF5F06C) >> 7) & 0x1FFFFFF) * 15625UL * (read(0x3FF5A010) & 0xFF) / 40;
            return est == 0 ? null : (est, est > 33_000_000 ? 40_000_000UL : 26_000_000UL);
        },
        Spi = new(0x3FF42000, 0x1C, 0x20, 0x24, 0x28, 0x2C, 0x80, true),
        MemoryMap =
        [
            Padding,
            R("DROM", 0x3F400000, 0x3F800000, MemoryKind.FlashData),
            R("EXTRAM_DATA", 0x3F800000, 0x3FC00000, MemoryKind.ExternalRam),
            R("RTC_DRAM", 0x3FF80000, 0x3FF82000, MemoryKind.Rtc),
            A("BYTE_ACCESSIBLE", 0x3FF90000, 0x40000000, MemoryKind.Dram),
            R("DRAM", 0x3FFAE000, 0x40000000, MemoryKind.Dram),
            A("DIRAM_DRAM", 0x3FFE0000, 0x3FFFFFFC, MemoryKind.Dram),
            R("IROM", 0x40000000, 0x40070000, MemoryKind.Rom), // esptool calls the mask ROM "IROM" here too
            R("CACHE_PRO", 0x40070000, 0x40078000, MemoryKind.Cache),
            R("CACHE_APP", 0x40078000, 0x40080000, MemoryKind.Cache),
            R("IRAM", 0x40080000, 0x400A0000, MemoryKind.Iram),
            R("DIRAM_IRAM", 0x400A0000, 0x400BFFFC, MemoryKind.Iram),
            R("RTC_IRAM", 0x400C0000, 0x400C2000, MemoryKind.Rtc),
            R("IROM", 0x400D0000, 0x40400000, MemoryKind.FlashCode),
            R("RTC_DATA", 0x50000000, 0x50002000, MemoryKind.Rtc),
        ],
        IromMap = new(0x400D0000, 0x40400000), DromMap = new(0x3F400000, 0x3F800000),
        StubLocations =
        [
            new("2", 0x400A8000, 0x400A9938, 0x3FFCC000, 0x3FFDEE40, 0x400A902C),
            new("1", 0x400BE000, 0x400BEDD4, 0x3FFCC000, 0x3FFDEC48, 0x400BE658),
        ],
        MacLayout = MacLayout.Esp32Blk0, MacRegister = 0x3FF5A004, EfuseBase = 0x3FF5A000,
        EfuseBlocks =
        [
            new("BLOCK0", 0x3FF5A000, 7), new("BLOCK1", 0x3FF5A038, 8),
            new("BLOCK2", 0x3FF5A058, 8), new("BLOCK3", 0x3FF5A078, 8),
        ],
        UartClkDivRegister = 0x3FF40014, BootloaderOffset = 0x1000,
        // Major revision: BLK0 word 3 bit 15, word 5 bit 20 and APB_CTL_DATE bit 31, mapped {0→0, 1→1, 3→2, 7→3}.
        Revision = new RevisionLayout(
            [F(0x3FF5A00C, 15, 1, 0), F(0x3FF5A014, 20, 1, 1), F(0x3FF6607C, 31, 1, 2)],
            [F(0x3FF5A014, 24, 2)])
        { MajorMap = new Dictionary<uint, int> { [0] = 0, [1] = 1, [3] = 2, [7] = 3 } },
        // BLK0 word 3 bits 9–11, plus bit 2 as bit 3.
        PackageVersion = [F(0x3FF5A00C, 9, 3), F(0x3FF5A00C, 2, 1, 3)],
        FlashVoltage = new(0x3FF5A010, 14, 15, 16, 0x3FF44038, 1u << 5) { RtcSdioConfRegister = 0x3FF48074 },
        SpiPads = new(0x3FF5A014, 0x3FF5A00C),
        DescriptionRule = ChipIdentity.Esp32Description,
        FeaturesRule = ChipIdentity.Esp32Features,
    };

    public static readonly ChipDefinition Esp32S2 = new()
    {
        Key = "esp32s2", Name = "ESP32-S2", ImageChipId = 2,
        HasUsbOtg = true,
        MagicValues = [0x000007C6],
        Spi = NewSpi(0x3F402000),
        MemoryMap =
        [
            Padding,
            R("DROM", 0x3F000000, 0x3FF80000, MemoryKind.FlashData),
            R("EXTRAM_DATA", 0x3F500000, 0x3FF80000, MemoryKind.ExternalRam),
            R("RTC_DRAM", 0x3FF9E000, 0x3FFA0000, MemoryKind.Rtc),
            A("BYTE_ACCESSIBLE", 0x3FF9E000, 0x40000000, MemoryKind.Dram),
            A("MEM_INTERNAL", 0x3FF9E000, 0x40072000, MemoryKind.Unified),
            R("DRAM", 0x3FFB0000, 0x40000000, MemoryKind.Dram),
            R("IROM_MASK", 0x40000000, 0x4001A100, MemoryKind.Rom),
            R("IRAM", 0x40020000, 0x40070000, MemoryKind.Iram),
            R("RTC_IRAM", 0x40070000, 0x40072000, MemoryKind.Rtc),
            R("IROM", 0x40080000, 0x40800000, MemoryKind.FlashCode),
            R("RTC_DATA", 0x50000000, 0x50002000, MemoryKind.Rtc),
        ],
        IromMap = new(0x40080000, 0x40B80000), DromMap = new(0x3F000000, 0x3F3F0000),
        StubLocations =
        [
            new("2", 0x40028000, 0x400299C8, 0x3FFD0000, 0x3FFE2E94, 0x400290A4),
            new("1", 0x40028000, 0x4002917C, 0x3FFD0000, 0x3FFE2CA0, 0x400288AC),
        ],
        MacRegister = 0x3F41A044, EfuseBase = 0x3F41A000, EfuseBlocks = NewEfuseBlocks(0x3F41A000),
        UartClkDivRegister = 0x3F400014, FixedCrystalMhz = 40, BootloaderOffset = 0x1000,
        // BLOCK1 word n at 0x3F41A044 + 4n: major = w3 bits 18–19; minor = w3 bit 20 (×8) + w4 bits 4–6.
        Revision = new RevisionLayout([F(0x3F41A050, 18, 2)], [F(0x3F41A054, 4, 3), F(0x3F41A050, 20, 1, 3)]),
        PackageVersion = [F(0x3F41A054, 0, 4)],
        FlashCap = [F(0x3F41A050, 21, 4)],
        PsramCap = [F(0x3F41A050, 28, 4)],
        FlashVoltage = new(0x3F41A034, 4, 5, 6, 0x3F404038, 1u << 4),
        DescriptionRule = ChipIdentity.Esp32S2Description,
        FeaturesRule = ChipIdentity.Esp32S2Features,
    };

    public static readonly ChipDefinition Esp32S3 = new()
    {
        Key = "esp32s3", Name = "ESP32-S3", ImageChipId = 9,
        HasUsbOtg = true,
        MagicValues = [0x00000009], DetectBySecurityInfo = true,
        Spi = NewSpi(0x60002000),
        MemoryMap =
        [
            Padding,
            R("DROM", 0x3C000000, 0x3D000000, MemoryKind.FlashData),
            R("EXTRAM_DATA", 0x3D000000, 0x3E000000, MemoryKind.ExternalRam),
            R("RTC_DRAM", 0x600FE000, 0x60100000, MemoryKind.Rtc),
            A("BYTE_ACCESSIBLE", 0x3FC88000, 0x3FD00000, MemoryKind.Dram),
            A("MEM_INTERNAL", 0x3FC88000, 0x403E2000, MemoryKind.Unified),
            R("DRAM", 0x3FC88000, 0x3FD00000, MemoryKind.Dram),
            R("IROM_MASK", 0x40000000, 0x4001A100, MemoryKind.Rom),
            R("IRAM", 0x40370000, 0x403E0000, MemoryKind.Iram),
            A("RTC_IRAM", 0x600FE000, 0x60100000, MemoryKind.Rtc),
            R("IROM", 0x42000000, 0x42800000, MemoryKind.FlashCode),
            R("RTC_DATA", 0x50000000, 0x50002000, MemoryKind.Rtc),
        ],
        IromMap = new(0x42000000, 0x44000000), DromMap = new(0x3C000000, 0x3E000000),
        StubLocations =
        [
            new("2", 0x40378000, 0x40379E98, 0x3FCA0000, 0x3FCB2EC8, 0x40379524),
            new("1", 0x40378000, 0x4037962C, 0x3FCA0000, 0x3FCB2CFC, 0x40378C94),
        ],
        MacRegister = 0x60007044, EfuseBase = 0x60007000, EfuseBlocks = NewEfuseBlocks(0x60007000),
        UartClkDivRegister = 0x60000014, UartDateRegister = 0x60000080, FixedCrystalMhz = 40,
        MaxFlashSize = 64u * 1024 * 1024,
        // BLOCK1 word n at 0x60007044 + 4n: major = w5 bits 24–25; minor = w5 bit 23 (×8) + w3 bits 18–20.
        // ECO0 workaround: v0.0 when w3 bits 18–20 = 0, BLOCK2 w4 bits 0–1 (blk major) = 1 and w3 bits 24–26 (blk minor) = 1.
        Revision = new RevisionLayout([F(0x60007058, 24, 2)], [F(0x60007050, 18, 3), F(0x60007058, 23, 1, 3)])
        {
            ZeroWhen = [new(F(0x60007050, 18, 3), 0), new(F(0x6000706C, 0, 2), 1), new(F(0x60007050, 24, 3), 1)],
        },
        PackageVersion = [F(0x60007050, 21, 3)],
        PackageNames = new Dictionary<uint, string> { [0] = "ESP32-S3 (QFN56)", [1] = "ESP32-S3-PICO-1 (LGA56)" },
        FlashCap = [F(0x60007050, 27, 3)],
        FlashVendor = [F(0x60007054, 0, 3)],
        PsramCap = [F(0x60007054, 3, 2), F(0x60007058, 19, 1, 2)],
        PsramVendor = [F(0x60007054, 7, 2)],
        FlashVoltage = new(0x60007034, 4, 5, 6, 0x60004038, 1u << 4),
        DescriptionRule = ChipIdentity.ByPackage,
        FeaturesRule = ChipIdentity.Esp32S3Features,
    };

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
