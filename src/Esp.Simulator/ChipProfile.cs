namespace Esp.Simulator;

/// <summary>Which flasher stub flavour is running (decides the handful of places where they differ).</summary>
public enum StubKind
{
    /// <summary>esptool-legacy-flasher-stub ("stub_flasher/1").</summary>
    Legacy = 1,
    /// <summary>esp-flasher-stub ("stub_flasher/2", esptool v5 default).</summary>
    New = 2,
}

internal sealed record SramBank(uint DataStart, uint Size, uint? InstrStart = null);

internal sealed record SpiRegs(uint Base, uint Usr, uint Usr1, uint Usr2, uint? MosiDlen, uint? MisoDlen, uint W0, bool AddrLeftJustified);

internal sealed record StubSite(uint TextStart, StubKind Kind);

/// <summary>Static per-chip facts: chip ids and magic values, SPI registers, stub locations, eFuse and MAC layout.</summary>
internal sealed class ChipProfile
{
    public required string Key { get; init; }
    public required string Name { get; init; }
    public required uint Magic { get; init; }
    public int? ImageChipId { get; init; }
    public int RomStatusBytes { get; init; } = 4;
    public bool IsEsp8266 => Key == "esp8266";
    public bool IsEsp32 => Key == "esp32";
    /// <summary>0 = ROM does not know GET_SECURITY_INFO; 12 (S2) or 20 bytes.</summary>
    public int SecurityInfoLength { get; init; } = 20;
    public int SecurityApiVersion { get; init; }
    public int DefaultXtalMhz { get; init; } = 40;
    public int UartClockDivider { get; init; } = 1;
    public required uint UartClkdivAddress { get; init; }
    public required SpiRegs Spi { get; init; }
    public required SramBank[] Sram { get; init; }
    /// <summary>Address windows behaving like a plain register file (written values read back).</summary>
    public required (uint Start, uint End)[] PeripheralWindows { get; init; }
    public uint? EfuseBase { get; init; }
    public uint? MacAddress { get; init; }
    public int MaxFlashMiB { get; init; } = 16;
    public required StubSite[] StubSites { get; init; }
    public required string BannerDownload { get; init; }
    public required string BannerApp { get; init; }
    /// <summary>What the ROM prints after <see cref="BannerApp"/> about the bootloader it loads from flash (see <see cref="RomBootText"/>).</summary>
    public RomBootTextKind BootText { get; init; }
    /// <summary>
    /// The ROM loader's receive ring: its interrupt handler copies UART bytes into a ring of this size with no overflow
    /// check, so when more bytes arrive while a command runs, whole laps are lost and only the newest (unread mod size)
    /// bytes remain. Measured on QEMU's real ROMs: ESP32 256 bytes, ESP32-C3 2048 (the C3 ROM's code shows the ring);
    /// later chips are taken to be like the C3, the ESP8266 like the ESP32 (not measured).
    /// </summary>
    public int RomRxRing { get; init; } = 2048;
    /// <summary>Baud the ROM prints its boot messages at (ESP8266: 74880 with a 26 MHz crystal).</summary>
    public int BootLogBaud { get; init; } = 115200;

    public static readonly IReadOnlyList<byte> Esp8266RomOps = [0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A];
    public static readonly IReadOnlyList<byte> Esp32RomOps =
        [0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A, 0x0B, 0x0D, 0x0E, 0x0F, 0x10, 0x11, 0x12, 0x13];

    public bool RomKnows(byte op)
    {
        if (IsEsp8266) return Esp8266RomOps.Contains(op);
        if (Esp32RomOps.Contains(op)) return true;
        return op == 0x14 && SecurityInfoLength > 0;
    }

    private static readonly (uint, uint)[] ModernPeripherals = [(0x60000000, 0x60100000), (0x50000000, 0x50002000)];

    private static string NewRomBanner(string rom, string build, string download) =>
        $"ESP-ROM:{rom}\r\nBuild:{build}\r\nrst:0x1 (POWERON),boot:{download}\r\nwaiting for download\r\n";

    private static string NewAppBanner(string rom, string build, string boot) =>
        $"ESP-ROM:{rom}\r\nBuild:{build}\r\nrst:0x1 (POWERON),boot:{boot} (SPI_FAST_FLASH_BOOT)\r\n";

    private static readonly Dictionary<string, ChipProfile> All = Build();

    public static IReadOnlyCollection<string> Keys => All.Keys;

    public static ChipProfile Get(string key)
    {
        var k = Normalize(key);
        return All.TryGetValue(k, out var p)
            ? p
            : throw new ArgumentException($"Unknown chip '{key}'. Known chips: {string.Join(", ", All.Keys)}.", nameof(key));
    }

    public static string Normalize(string key) =>
        key.Trim().ToLowerInvariant().Replace("-", "", StringComparison.Ordinal).Replace("_", "", StringComparison.Ordinal);

    private static SpiRegs ModernSpi(uint b) => new(b, 0x18, 0x1C, 0x20, 0x24, 0x28, 0x58, false);

    private static Dictionary<string, ChipProfile> Build()
    {
        var list = new List<ChipProfile>
        {
            new()
            {
                Key = "esp8266", Name = "ESP8266", Magic = 0xFFF0C101, ImageChipId = null, RomStatusBytes = 2,
                SecurityInfoLength = 0, DefaultXtalMhz = 26, UartClockDivider = 2, UartClkdivAddress = 0x60000014,
                Spi = new SpiRegs(0x60000200, 0x1C, 0x20, 0x24, null, null, 0x40, true),
                Sram = [new(0x3FFE8000, 0x18000), new(0x40100000, 0x10000)],
                PeripheralWindows = [(0x3FF00000, 0x3FF01000), (0x60000000, 0x60001000)],
                EfuseBase = 0x3FF00050, MacAddress = 0x3FF00050, MaxFlashMiB = 16,
                StubSites = [new(0x4010C500, StubKind.New), new(0x4010D000, StubKind.Legacy)],
                BootLogBaud = 74880,
                RomRxRing = 256,
                BannerDownload = "\r\n ets Jan  8 2013,rst cause:2, boot mode:(1,7)\r\n\r\n",
                BannerApp = "\r\n ets Jan  8 2013,rst cause:2, boot mode:(3,7)\r\n\r\n",
            },
            new()
            {
                Key = "esp32", Name = "ESP32", Magic = 0x00F01D83, ImageChipId = 0, SecurityInfoLength = 0, RomRxRing = 256,
                UartClkdivAddress = 0x3FF40014,
                Spi = new SpiRegs(0x3FF42000, 0x1C, 0x20, 0x24, 0x28, 0x2C, 0x80, true),
                Sram = [new(0x3FFAE000, 0x52000), new(0x40080000, 0x40000), new(0x3FF80000, 0x2000, 0x400C0000), new(0x50000000, 0x2000)],
                PeripheralWindows = [(0x3FF00000, 0x3FF80000), (0x60000000, 0x60100000)],
                EfuseBase = 0x3FF5A000, MacAddress = 0x3FF5A004,
                StubSites = [new(0x400A8000, StubKind.New), new(0x400BE000, StubKind.Legacy)],
                BannerDownload = "ets Jul 29 2019 12:21:46\r\n\r\nrst:0x1 (POWERON_RESET),boot:0x3 (DOWNLOAD_BOOT(UART0/UART1/SDIO_REI_REO_V2))\r\nwaiting for download\r\n",
                BannerApp = "ets Jul 29 2019 12:21:46\r\n\r\nrst:0x1 (POWERON_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)\r\n",
                BootText = RomBootTextKind.Esp32,
            },
            new()
            {
                Key = "esp32s2", Name = "ESP32-S2", Magic = 0x000007C6, ImageChipId = 2, SecurityInfoLength = 12,
                UartClkdivAddress = 0x3F400014, Spi = ModernSpi(0x3F402000),
                Sram = [new(0x3FFB0000, 0x50000, 0x40020000), new(0x50000000, 0x2000)],
                PeripheralWindows = [(0x3F400000, 0x3F500000), (0x60000000, 0x60100000)],
                EfuseBase = 0x3F41A000, MacAddress = 0x3F41A044,
                StubSites = [new(0x40028000, StubKind.New)],
                BannerDownload = NewRomBanner("esp32s2-rc4-20191025", "Oct 25 2019", "0x0 (DOWNLOAD(USB/UART0/1))"),
                BannerApp = NewAppBanner("esp32s2-rc4-20191025", "Oct 25 2019", "0x8"),
            },
            new()
            {
                Key = "esp32s3", Name = "ESP32-S3", Magic = 0x00000009, ImageChipId = 9, MaxFlashMiB = 32,
                UartClkdivAddress = 0x60000014, Spi = ModernSpi(0x60002000),
                Sram = [new(0x3FC80000, 0x80000, 0x40370000)], PeripheralWindows = ModernPeripherals,
                EfuseBase = 0x60007000, MacAddress = 0x60007044,
                StubSites = [new(0x40378000, StubKind.New)],
                BannerDownload = NewRomBanner("esp32s3-20210327", "Mar 27 2021", "0x0 (DOWNLOAD(USB/UART0))"),
                BannerApp = NewAppBanner("esp32s3-20210327", "Mar 27 2021", "0x8"),
            },
            new()
            {
                Key = "esp32c2", Name = "ESP32-C2", Magic = 0x0C21E06F, ImageChipId = 12, DefaultXtalMhz = 26,
                UartClkdivAddress = 0x60000014, Spi = ModernSpi(0x60002000),
                Sram = [new(0x3FC9C000, 0x44000, 0x4037C000)], PeripheralWindows = ModernPeripherals,
                EfuseBase = 0x60008800, MacAddress = 0x60008840,
                StubSites = [new(0x40380000, StubKind.New)],
                BannerDownload = NewRomBanner("esp8684-api2-20220127", "Jan 27 2022", "0x4 (DOWNLOAD(UART0))"),
                BannerApp = NewAppBanner("esp8684-api2-20220127", "Jan 27 2022", "0xc"),
            },
            new()
            {
                Key = "esp32c3", Name = "ESP32-C3", Magic = 0x1B31506F, ImageChipId = 5, SecurityApiVersion = 3,
                UartClkdivAddress = 0x60000014, Spi = ModernSpi(0x60002000),
                Sram = [new(0x3FC7C000, 0x64000, 0x4037C000), new(0x50000000, 0x2000)], PeripheralWindows = ModernPeripherals,
                EfuseBase = 0x60008800, MacAddress = 0x60008844,
                StubSites = [new(0x40380000, StubKind.New)],
                BannerDownload = NewRomBanner("esp32c3-api1-20210207", "Feb  7 2021", "0x4 (DOWNLOAD(USB/UART0/1))"),
                BannerApp = NewAppBanner("esp32c3-api1-20210207", "Feb  7 2021", "0xc"),
                BootText = RomBootTextKind.Esp32C3,
            },
            new()
            {
                Key = "esp32c6", Name = "ESP32-C6", Magic = 0x2CE0806F, ImageChipId = 13,
                UartClkdivAddress = 0x60000014, Spi = ModernSpi(0x60003000),
                Sram = [new(0x40800000, 0x80000), new(0x50000000, 0x4000)], PeripheralWindows = [(0x60000000, 0x60100000)],
                EfuseBase = 0x600B0800, MacAddress = 0x600B0844,
                StubSites = [new(0x40800000, StubKind.New)],
                BannerDownload = NewRomBanner("esp32c6-20220919", "Sep 19 2022", "0x4 (DOWNLOAD(USB/UART/SDIO_REI_FEO))"),
                BannerApp = NewAppBanner("esp32c6-20220919", "Sep 19 2022", "0x6c"),
            },
            new()
            {
                Key = "esp32c5", Name = "ESP32-C5", Magic = 0x5FD1406F, ImageChipId = 23, DefaultXtalMhz = 48, MaxFlashMiB = 32,
                UartClkdivAddress = 0x60000014, Spi = ModernSpi(0x60003000),
                Sram = [new(0x40800000, 0x60000), new(0x50000000, 0x4000)], PeripheralWindows = [(0x60000000, 0x60100000)],
                EfuseBase = 0x600B4800, MacAddress = 0x600B4844,
                StubSites = [new(0x40800000, StubKind.New)],
                BannerDownload = NewRomBanner("esp32c5-eco2-20250121", "Jan 21 2025", "0x18 (DOWNLOAD(USB/UART/SDIO_FEI_FEO))"),
                BannerApp = NewAppBanner("esp32c5-eco2-20250121", "Jan 21 2025", "0x18"),
            },
            new()
            {
                Key = "esp32c61", Name = "ESP32-C61", Magic = 0x33F0206F, ImageChipId = 20,
                UartClkdivAddress = 0x60000014, Spi = ModernSpi(0x60003000),
                Sram = [new(0x40800000, 0x60000)], PeripheralWindows = [(0x60000000, 0x60100000)],
                EfuseBase = 0x600B4800, MacAddress = 0x600B4844,
                StubSites = [new(0x40800000, StubKind.New)],
                BannerDownload = NewRomBanner("esp32c61-20240329", "Mar 29 2024", "0x4 (DOWNLOAD(USB/UART0))"),
                BannerApp = NewAppBanner("esp32c61-20240329", "Mar 29 2024", "0xc"),
            },
            new()
            {
                Key = "esp32h2", Name = "ESP32-H2", Magic = 0xD7B73E80, ImageChipId = 16, DefaultXtalMhz = 32,
                UartClkdivAddress = 0x60000014, Spi = ModernSpi(0x60003000),
                Sram = [new(0x40800000, 0x80000), new(0x50000000, 0x1000)], PeripheralWindows = [(0x60000000, 0x60100000)],
                EfuseBase = 0x600B0800, MacAddress = 0x600B0844,
                StubSites = [new(0x40800000, StubKind.New)],
                BannerDownload = NewRomBanner("esp32h2-20221101", "Nov  1 2022", "0x4 (DOWNLOAD(USB/UART0))"),
                BannerApp = NewAppBanner("esp32h2-20221101", "Nov  1 2022", "0xc"),
            },
            new()
            {
                Key = "esp32p4", Name = "ESP32-P4", Magic = 0x0ADDBAD0, ImageChipId = 18, MaxFlashMiB = 32,
                UartClkdivAddress = 0x500CA014, Spi = ModernSpi(0x5008D000),
                Sram = [new(0x4FF00000, 0xA0000), new(0x50108000, 0x8000)],
                PeripheralWindows = [(0x50000000, 0x50200000)],
                EfuseBase = 0x5012D000, MacAddress = 0x5012D044,
                StubSites = [new(0x4FF50000, StubKind.New), new(0x4FF10000, StubKind.New)],
                BannerDownload = NewRomBanner("esp32p4-eco2-20240710", "Jul 10 2024", "0x20f (DOWNLOAD(USB/UART0/SPI))"),
                BannerApp = NewAppBanner("esp32p4-eco2-20240710", "Jul 10 2024", "0x30f"),
            },
        };
        return list.ToDictionary(p => p.Key);
    }
}
