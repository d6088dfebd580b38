namespace Esp.Protocol.Chips;

/// <summary>The Xtensa chips: ESP8266, ESP32, ESP32-S2, ESP32-S3.</summary>
public static partial class ChipDatabase
{
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
}
