namespace Esp.Simulator;

/// <summary>What the chip is doing right now.</summary>
public enum ChipMode
{
    /// <summary>Mask-ROM serial bootloader (download mode).</summary>
    RomLoader,
    /// <summary>A flasher stub uploaded through MEM_* is answering.</summary>
    Stub,
    /// <summary>Code uploaded with MEM_* was started (MEM_END with flag 0); the chip is silent.</summary>
    RunningUserCode,
    /// <summary>The chip booted its application from flash; silent to SLIP.</summary>
    BootedApp,
    /// <summary>EN (CHIP_PU) is held low by the auto-reset circuit.</summary>
    InReset,
}

/// <summary>Which reset values peripherals show.</summary>
public enum PeripheralProfile
{
    /// <summary>Values a real chip would show (UART CLKDIV derived from crystal and baud).</summary>
    Silicon,
    /// <summary>Values Espressif's QEMU shows (used to replay the golden traces, e.g. ESP32 UART0_CLKDIV = 0x15a).</summary>
    QemuLike,
}

public enum FaultDirection { HostToChip, ChipToHost, Both }

/// <summary>What the chip does with CHANGE_BAUDRATE after it has replied.</summary>
public enum BaudChangeBehaviour
{
    /// <summary>Switches to the new rate (every real loader).</summary>
    Follow,
    /// <summary>Stays at the old rate: a loader or bridge that did not take the new rate.</summary>
    Ignore,
    /// <summary>Stops answering until reset (Espressif's QEMU ESP32 does this).</summary>
    Silent,
}

public enum FaultKind { DropByte, FlipBit, InsertByte, DelayReply, ResetMidCommand, Disconnect, RxOverrun, BaudMismatch }

/// <summary>A raw flash preload (no protection checks).</summary>
public sealed record FlashPreload(uint Address, byte[] Data);

/// <summary>Something loaded into RAM with MEM_BEGIN/MEM_DATA.</summary>
public sealed record LoadedSegment(uint Address, byte[] Data);

/// <summary>Link model between host and chip.</summary>
public sealed record LinkOptions
{
    /// <summary>Deliver bytes no faster than the chip's baud rate allows (10 bits per byte).</summary>
    public bool BaudThrottle { get; init; }
    public TimeSpan HostToChipLatency { get; init; } = TimeSpan.Zero;
    public TimeSpan ChipToHostLatency { get; init; } = TimeSpan.Zero;
    /// <summary>
    /// Size of the chip's receive buffer (UART FIFO + the loader's ring). While the chip is busy executing a command
    /// (not waiting for input), bytes that arrive beyond this many unread bytes are dropped and counted as
    /// <see cref="FaultKind.RxOverrun"/>. While the chip waits for input it drains faster than any baud rate, so no
    /// drops happen then. Default 36 KiB: the stub double-buffers one worst-case escaped 16 KiB block.
    /// </summary>
    public int RxBufferSize { get; init; } = 36 * 1024;
}

/// <summary>Seeded, reproducible fault injection. Rates are probabilities per byte or per command.</summary>
public sealed record FaultOptions
{
    public int Seed { get; init; } = 1;
    public FaultDirection Direction { get; init; } = FaultDirection.Both;
    public double DropByteRate { get; init; }
    public double FlipBitRate { get; init; }
    public double InsertByteRate { get; init; }
    /// <summary>Probability per command that its reply is held back by <see cref="ReplyDelay"/>.</summary>
    public double DelayReplyRate { get; init; }
    public TimeSpan ReplyDelay { get; init; } = TimeSpan.FromSeconds(4);
    /// <summary>Probability per command that the chip resets (watchdog) instead of finishing it.</summary>
    public double ResetMidCommandRate { get; init; }
    /// <summary>Close the link after this many host-to-chip bytes (null = never).</summary>
    public long? DisconnectAfterHostBytes { get; init; }

    public bool Any => DropByteRate > 0 || FlipBitRate > 0 || InsertByteRate > 0 || DelayReplyRate > 0
        || ResetMidCommandRate > 0 || DisconnectAfterHostBytes is not null;
}

/// <summary>Optional flash timing (typical GD25Q/W25Q datasheet values). Off by default: operations are instant.</summary>
public sealed record FlashTimingOptions
{
    public bool Enabled { get; init; }
    public TimeSpan SectorErase { get; init; } = TimeSpan.FromMilliseconds(45);
    public TimeSpan Block32Erase { get; init; } = TimeSpan.FromMilliseconds(120);
    public TimeSpan Block64Erase { get; init; } = TimeSpan.FromMilliseconds(150);
    public TimeSpan ChipErasePerMiB { get; init; } = TimeSpan.FromMilliseconds(2500);
    public TimeSpan PageProgram { get; init; } = TimeSpan.FromMilliseconds(0.6);
    public TimeSpan StatusWrite { get; init; } = TimeSpan.FromMilliseconds(2);
    /// <summary>SPI_FLASH_MD5 through the ROM loader: reading and hashing (QEMU's ESP32 ROM took 0.5–0.85 s per MiB).</summary>
    public TimeSpan RomMd5PerMiB { get; init; } = TimeSpan.FromMilliseconds(600);
    /// <summary>SPI_FLASH_MD5 through a flasher stub (faster clocks and flash reads).</summary>
    public TimeSpan StubMd5PerMiB { get; init; } = TimeSpan.FromMilliseconds(150);
}

/// <summary>Everything that configures a <see cref="VirtualChip"/>.</summary>
public sealed record VirtualChipOptions
{
    /// <summary>Chip key: esp8266, esp32, esp32s2, esp32s3, esp32c2, esp32c3, esp32c5, esp32c6, esp32c61, esp32h2, esp32p4.</summary>
    public string Chip { get; init; } = "esp32";
    public int FlashSize { get; init; } = 4 * 1024 * 1024;
    /// <summary>Flash image file: loaded when present (size must match), saved atomically after flash changes and on dispose.</summary>
    public string? StatePath { get; init; }
    public IReadOnlyList<FlashPreload> Preloads { get; init; } = [];
    public bool StartInDownloadMode { get; init; } = true;
    /// <summary>Start with a flasher stub already running (as if esptool had uploaded it).</summary>
    public bool StartInStub { get; init; }
    /// <summary>Stub flavour used when <see cref="StartInStub"/> is set or when the upload address is ambiguous.</summary>
    public StubKind DefaultStubKind { get; init; } = StubKind.New;
    /// <summary>What CHANGE_BAUDRATE does after the reply (default: switch).</summary>
    public BaudChangeBehaviour BaudChange { get; init; } = BaudChangeBehaviour.Follow;
    /// <summary>Print the ROM boot banner after resets.</summary>
    public bool PrintBootBanner { get; init; } = true;

    public LinkOptions Link { get; init; } = new();
    public FaultOptions Faults { get; init; } = new();
    public FlashTimingOptions FlashTiming { get; init; } = new();
    public PeripheralProfile Peripherals { get; init; } = PeripheralProfile.Silicon;

    // ---- identity (eFuses) ----
    /// <summary>Base MAC, e.g. "24:0a:c4:01:02:03". Null = a per-chip default.</summary>
    public string? Mac { get; init; }
    /// <summary>Chip revision as major*100+minor (300 = v3.0). Null = per-chip default (ESP32 v3.0, C3 v0.3, others v0.0).</summary>
    public int? Revision { get; init; }
    public int? XtalMhz { get; init; }
    /// <summary>Secure Download Mode (GET_SECURITY_INFO flags bit 2): the ROM refuses most commands.</summary>
    public bool SecureDownload { get; init; }
    /// <summary>FLASH_CRYPT_CNT / SPI_BOOT_CRYPT_CNT eFuse; odd popcount = flash encryption enabled.</summary>
    public int FlashCryptCnt { get; init; }
    /// <summary>Extra GET_SECURITY_INFO flag bits (secure boot etc.).</summary>
    public uint SecurityFlags { get; init; }
    /// <summary>eFuse words to set over the chip's defaults (address → value), e.g. a security bit.</summary>
    public IReadOnlyDictionary<uint, uint> EfuseWords { get; init; } = new Dictionary<uint, uint>();
    /// <summary>Magic word at 0x40001000; null = per-chip default.</summary>
    public uint? MagicValue { get; init; }

    // ---- flash chip ----
    /// <summary>JEDEC manufacturer and memory type (capacity byte is derived from the size). Default GigaDevice GD25Q (C8 40).</summary>
    public byte FlashManufacturer { get; init; } = 0xC8;
    public byte FlashMemoryType { get; init; } = 0x40;
    /// <summary>Initial non-volatile status registers SR1, SR2, SR3 (e.g. block protection bits).</summary>
    public byte[] FlashStatus { get; init; } = [0, 0, 0];
    /// <summary>Level of the flash WP# pin: true = low (hardware write protection honoured when SRP0 = 1).</summary>
    public bool FlashWriteProtectPinLow { get; init; }

    /// <summary>Baud the ROM starts at.</summary>
    public int InitialBaud { get; init; } = 115200;
    /// <summary>EN RC delay: the chip samples its boot strap this long after EN is released.</summary>
    public TimeSpan ResetCapacitorDelay { get; init; } = TimeSpan.FromMilliseconds(10);
}
