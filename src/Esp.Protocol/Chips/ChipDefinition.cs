namespace Esp.Protocol.Chips;

/// <summary>Which SPI controller registers run a user SPI flash command (esptool's per-chip SPI_* register constants).</summary>
public sealed record SpiRegisterMap(
    uint Base, uint UsrOffset, uint Usr1Offset, uint Usr2Offset,
    uint? MosiDlenOffset, uint? MisoDlenOffset, uint W0Offset, bool AddressLeftJustified)
{
    public uint Cmd => Base;
    public uint Addr => Base + 0x04;
    public uint Usr => Base + UsrOffset;
    public uint Usr1 => Base + Usr1Offset;
    public uint Usr2 => Base + Usr2Offset;
    public uint? MosiDlen => MosiDlenOffset is { } o ? Base + o : null;
    public uint? MisoDlen => MisoDlenOffset is { } o ? Base + o : null;
    public uint W0 => Base + W0Offset;
}

public enum MemoryKind
{
    Iram, Dram, Unified, Rom, FlashCode, FlashData, Rtc, Peripheral, ExternalRam,
    /// <summary>esptool's "PADDING" entry (0x0–0x10000): the load address of image padding segments, not memory.</summary>
    Padding,
    /// <summary>Cache memory windows (ESP32 CACHE_PRO / CACHE_APP).</summary>
    Cache,
}

/// <summary>
/// One entry of esptool's MEMORY_MAP (end exclusive). esptool's table contains several names for the same
/// memory (e.g. DRAM and BYTE_ACCESSIBLE); the extra names are kept with <see cref="IsAlias"/> set, so that
/// image-info can list every name that covers an address while overlap checks use the primary regions only.
/// </summary>
public sealed record MemoryRegion(string Name, uint Start, uint End, MemoryKind Kind)
{
    /// <summary>True when this entry is another name for memory that a primary entry of the map describes.</summary>
    public bool IsAlias { get; init; }
    public uint Size => End - Start;
    public bool Contains(uint address, uint length = 1) => address >= Start && (ulong)address + length <= End;
    public bool Overlaps(uint address, uint length) => address < End && (ulong)address + length > Start;
    public bool IsRam => Kind is MemoryKind.Iram or MemoryKind.Dram or MemoryKind.Unified or MemoryKind.Rtc;
}

/// <summary>An address window [Start, End).</summary>
public readonly record struct AddressRange(uint Start, uint End)
{
    public bool Contains(uint address) => address >= Start && address < End;
}

/// <summary>
/// An eFuse block as the chip exposes it for reading: <paramref name="Words"/> 32-bit words from
/// <paramref name="Address"/> (word n at Address + 4·n). A simulator backs these with its eFuse image.
/// </summary>
public sealed record EfuseBlock(string Name, uint Address, int Words)
{
    public uint End => Address + (uint)Words * 4;
    public bool Contains(uint address) => address >= Address && address < End && (address & 3) == 0;
    public uint WordAddress(int n) => Address + (uint)n * 4;
}

/// <summary>
/// Where esptool looks for the SPI flash supply voltage (ESP32, S2, S3): an optional RTC override register
/// (ESP32 only), the VDD_SPI eFuse bits, then the strapping pin.
/// </summary>
public sealed record FlashVoltageSources(
    uint EfuseRegister, int XpdBit, int TiehBit, int ForceBit, uint StrapRegister, uint StrapMask)
{
    /// <summary>ESP32 RTC_CNTL_SDIO_CONF register (override set by <c>--override-vddsdio</c>); null on S2/S3.</summary>
    public uint? RtcSdioConfRegister { get; init; }

    /// <summary>Returns (source, voltage) the way esptool's <c>get_flash_voltage</c> decides it.</summary>
    public (string Source, string Voltage) Decide(Func<uint, uint> read)
    {
        if (RtcSdioConfRegister is { } rtc)
        {
            uint reg = read(rtc);
            if ((reg & (1u << 22)) != 0) // SDIO_FORCE
            {
                string v = (reg & (3u << 29)) != 0 ? "1.9V" : (reg & (1u << 31)) != 0 ? "1.8V" : "OFF";
                return ("RTC_CNTL", v);
            }
        }
        uint efuse = read(EfuseRegister);
        if ((efuse & (1u << ForceBit)) != 0)
        {
            string v = (efuse & (1u << XpdBit)) == 0 ? "OFF" : (efuse & (1u << TiehBit)) == 0 ? "1.8V" : "3.3V";
            return ("eFuse", v);
        }
        return ("a strapping pin", (read(StrapRegister) & StrapMask) != 0 ? "1.8V" : "3.3V");
    }
}

/// <summary>ESP32 only: SPI flash pins burned in eFuse, which esptool passes to the ROM's SPI_ATTACH.</summary>
public sealed record SpiPadEfuses(uint ClkQDCsRegister, uint HdRegister)
{
    /// <summary>(clk, q, d, hd, cs) GPIO numbers; all zero = default pins.</summary>
    public (uint Clk, uint Q, uint D, uint Hd, uint Cs) Read(Func<uint, uint> read)
    {
        uint a = read(ClkQDCsRegister), b = read(HdRegister);
        return (a & 0x1F, (a >> 5) & 0x1F, (a >> 10) & 0x1F, (b >> 4) & 0x1F, (a >> 15) & 0x1F);
    }

    /// <summary>The SPI_ATTACH word: hd&lt;&lt;24 | cs&lt;&lt;18 | d&lt;&lt;12 | q&lt;&lt;6 | clk (0 when no pads are burned).</summary>
    public uint AttachValue(Func<uint, uint> read)
    {
        var (clk, q, d, hd, cs) = Read(read);
        return (hd << 24) | (cs << 18) | (d << 12) | (q << 6) | clk;
    }
}

/// <summary>
/// How many requests of one kind may be sent before their replies arrive. A window above 1 is data with evidence: it
/// was run on the real loader code (docs/fidelity.md), and the whole window fits the loader's receive ring even if
/// every byte is escaped, so none can be lost however long the loader is busy. Replies are committed a whole window at a time, and a
/// window with a missing or failed reply is drained and run again one request at a time (RequestPipeline).
/// </summary>
public sealed record LoaderWindows(int ReadReg, int ReadFlashSlow, int FlashMd5)
{
    /// <summary>One request at a time, as esptool does: what every loader takes.</summary>
    public static LoaderWindows LockStep { get; } = new(1, 1, 1);
}

/// <summary>Where a flasher stub release sits in RAM (end addresses exclusive), for the load_ram overlap guard.</summary>
public sealed record StubLocation(string Version, uint TextStart, uint TextEnd, uint DataStart, uint DataEnd, uint Entry);

/// <summary>How the factory MAC address is stored: ESP8266 OTP words, ESP32 eFuse BLK0, or two MAC words (later chips).</summary>
public enum MacLayout { Esp8266Otp, Esp32Blk0, MacWords }

/// <summary>Commands a chip's ROM loader understands beyond the common set.</summary>
[Flags]
public enum RomFeatures
{
    None = 0,
    SpiSetParams = 1 << 0,
    SpiAttach = 1 << 1,
    ReadFlashSlow = 1 << 2,
    ChangeBaudrate = 1 << 3,
    Compressed = 1 << 4,
    Md5 = 1 << 5,
    SecurityInfo = 1 << 6,
    /// <summary>FLASH_BEGIN / FLASH_DEFL_BEGIN take the fifth "encrypted" word.</summary>
    EncryptedFlag = 1 << 7,
    All = SpiSetParams | SpiAttach | ReadFlashSlow | ChangeBaudrate | Compressed | Md5 | SecurityInfo | EncryptedFlag,
}

/// <summary>
/// Everything the engine needs to know about one chip, as data. Operations read these fields instead of
/// testing for particular chips.
/// </summary>
public sealed record ChipDefinition
{
    /// <summary>esptool's --chip spelling, e.g. <c>esp32c3</c>.</summary>
    public required string Key { get; init; }
    /// <summary>Display name, e.g. <c>ESP32-C3</c>.</summary>
    public required string Name { get; init; }
    /// <summary>Image header / GET_SECURITY_INFO chip id; null for the ESP8266 (no extended header).</summary>
    public ushort? ImageChipId { get; init; }
    /// <summary>Values of the word at 0x40001000 that identify this chip.</summary>
    public uint[] MagicValues { get; init; } = [];
    /// <summary>True when current esptool detects the chip by GET_SECURITY_INFO rather than the magic word.</summary>
    public bool DetectBySecurityInfo { get; init; }
    /// <summary>Status bytes at the end of a ROM reply (2 on ESP8266, 4 on the rest). Stubs always use 2.</summary>
    public int RomStatusBytes { get; init; } = 4;
    public RomFeatures RomFeatures { get; init; } = RomFeatures.All;
    public required SpiRegisterMap Spi { get; init; }
    public MemoryRegion[] MemoryMap { get; init; } = [];
    /// <summary>
    /// RAM that <see cref="MemoryMap"/> (esptool's table, made for images) leaves out but the ROM loader can load
    /// into, because the ROM runs with the caches off (the ESP8266 stubs live there).
    /// </summary>
    public MemoryRegion[] LoaderOnlyRam { get; init; } = [];
    public StubLocation[] StubLocations { get; init; } = [];
    /// <summary>How many requests of each kind the ROM loader takes in flight (1 unless shown on the real ROM).</summary>
    public LoaderWindows RomWindows { get; init; } = LoaderWindows.LockStep;
    public MacLayout MacLayout { get; init; } = MacLayout.MacWords;
    /// <summary>eFuse register holding MAC word 0 (MacWords layout) or BLK0 base (ESP32).</summary>
    public uint MacRegister { get; init; }
    public uint EfuseBase { get; init; }
    public uint UartClkDivRegister { get; init; }
    public uint UartDateRegister { get; init; } = 0x60000078;
    /// <summary>Crystal the ROM runs with when it is not measured through CLKDIV (MHz); 0 = measure.</summary>
    public int FixedCrystalMhz { get; init; }
    /// <summary>Divider in the crystal estimate from CLKDIV (2 on ESP8266).</summary>
    public int CrystalClkDivider { get; init; } = 1;
    /// <summary>Flash offset of the second-stage bootloader image.</summary>
    public uint BootloaderOffset { get; init; }
    /// <summary>Largest flash the chip's stub handles (bytes).</summary>
    public uint MaxFlashSize { get; init; } = 16 * 1024 * 1024;
    /// <summary>Flash frequency names for header nibbles 0x0, 0x1, 0x2, 0xF.</summary>
    public IReadOnlyDictionary<string, byte> FlashFrequencies { get; init; } = DefaultFrequencies;
    /// <summary>Flash size names to header high-nibble codes.</summary>
    public IReadOnlyDictionary<string, byte> FlashSizes { get; init; } = Esp32FlashSizes;
    /// <summary>MMU page size for flash-mapped segments in images.</summary>
    public uint MmuPageSize { get; init; } = 0x10000;
    /// <summary>How to read the chip revision from eFuse; null when not modelled.</summary>
    public RevisionLayout? Revision { get; init; }

    /// <summary>Flash window for code (esptool IROM_MAP_START/END); image builders treat segments here as flash-mapped.</summary>
    public AddressRange IromMap { get; init; }
    /// <summary>Flash window for read-only data (esptool DROM_MAP_START/END); empty on the ESP8266.</summary>
    public AddressRange DromMap { get; init; }

    /// <summary>eFuse blocks esptool reads for identity (MAC, revision, package, features). Word n of a block is at Address + 4·n.</summary>
    public EfuseBlock[] EfuseBlocks { get; init; } = [];
    /// <summary>Package version bits (esptool get_pkg_version); null when esptool has none (ESP8266).</summary>
    public BitField[]? PackageVersion { get; init; }
    /// <summary>Embedded-flash capability bits (esptool get_flash_cap / get_flash_version).</summary>
    public BitField[]? FlashCap { get; init; }
    /// <summary>Embedded-flash vendor id bits (esptool get_flash_vendor).</summary>
    public BitField[]? FlashVendor { get; init; }
    /// <summary>Embedded-PSRAM capability bits (esptool get_psram_cap / get_psram_version).</summary>
    public BitField[]? PsramCap { get; init; }
    /// <summary>Embedded-PSRAM vendor id bits (esptool get_psram_vendor).</summary>
    public BitField[]? PsramVendor { get; init; }
    /// <summary>True when esptool reads a 16-bit MAC_EXT from the high half of MAC word 1 and prints an EUI-64 (C5, C6, H2).</summary>
    public bool HasMacExt { get; init; }

    /// <summary>
    /// True when the ROM can also talk over the chip's own USB-OTG port (S2, S3, P4). Through that port the loaders take
    /// data in 2 KiB blocks (esptool: the port's USB id is Espressif's with the chip id as product id).
    /// </summary>
    public bool HasUsbOtg { get; init; }

    /// <summary>
    /// Why the flasher stub must not run on this chip as connected (register reads → reason, null when it may), as
    /// esptool decides: e.g. an ESP32-C3 with Secure Boot, an ESP32-C2 of revision 0.
    /// </summary>
    internal Func<ChipDefinition, Func<uint, uint>, string?>? StubRefusal { get; init; }

    /// <summary>
    /// The ROM loader writes out its whole 32 KiB inflate buffer after compressed data, past what was erased (ESP32;
    /// see the traces' notes in docs/protocol-facts-corrections.md): compressed data goes to its stub only.
    /// </summary>
    public bool RomInflateOverruns { get; init; }

    /// <summary>
    /// The ROM's UART clock in Hz as the registers show it, when it differs from the nominal one the ROM divides by
    /// (the ESP32's drifting 8 MHz oscillator); CHANGE_BAUDRATE then sends the rate scaled by actual/nominal.
    /// Returns the actual and the nominal clock, or null when no correction applies.
    /// </summary>
    internal Func<Func<uint, uint>, (ulong Actual, ulong Nominal)?>? RomUartClock { get; init; }

    /// <summary>The rate to send in CHANGE_BAUDRATE to the ROM loader for <paramref name="baud"/>.</summary>
    public async Task<uint> RomBaudWordAsync(int baud, Func<uint, Task<uint>> readRegister, CancellationToken cancellationToken = default)
    {
        if (RomUartClock is not { } rule) return (uint)baud;
        var clock = await RegisterReads.EvaluateAsync(rule, readRegister, cancellationToken).ConfigureAwait(false);
        return clock is { } c && c.Actual != 0 ? (uint)((ulong)baud * c.Actual / c.Nominal) : (uint)baud;
    }

    /// <summary><see cref="StubRefusal"/> against an asynchronous register reader; null when the stub may run.</summary>
    public Task<string?> StubRefusalAsync(Func<uint, Task<uint>> readRegister, CancellationToken cancellationToken = default) =>
        StubRefusal is { } rule
            ? RegisterReads.EvaluateAsync(read => rule(this, read), readRegister, cancellationToken)
            : Task.FromResult<string?>(null);
    /// <summary>Where esptool reads the flash supply voltage (ESP32, S2, S3); null when it reports "not supported".</summary>
    public FlashVoltageSources? FlashVoltage { get; init; }
    /// <summary>ESP32 only: eFuse SPI pad configuration used for the ROM SPI_ATTACH.</summary>
    public SpiPadEfuses? SpiPads { get; init; }

    /// <summary>Chip description as esptool prints it after "Chip type:"; pure function of register reads.</summary>
    internal Func<ChipDefinition, Func<uint, uint>, string>? DescriptionRule { get; init; }
    /// <summary>Feature list as esptool prints it after "Features:"; pure function of register reads.</summary>
    internal Func<ChipDefinition, Func<uint, uint>, IReadOnlyList<string>>? FeaturesRule { get; init; }
    /// <summary>Package version → name used in the chip description (esptool's get_chip_description table).</summary>
    public IReadOnlyDictionary<uint, string>? PackageNames { get; init; }

    public bool IsEsp8266 => Key == "esp8266";

    /// <summary>True when the ROM loader accepts the fifth "encrypted" word of FLASH_BEGIN / FLASH_DEFL_BEGIN (not ESP8266, not ESP32).</summary>
    public bool RomSupportsEncryptedFlag => RomFeatures.HasFlag(RomFeatures.EncryptedFlag);

    public StubLocation? StubFor(string? version = null) =>
        StubLocations.FirstOrDefault(s => version is null || s.Version == version) ?? StubLocations.FirstOrDefault();

    /// <summary>The primary region that contains <paramref name="address"/> (aliases only if no primary one does).</summary>
    public MemoryRegion? RegionAt(uint address) =>
        MemoryMap.FirstOrDefault(r => !r.IsAlias && r.Contains(address)) ?? MemoryMap.FirstOrDefault(r => r.Contains(address));

    /// <summary>Every MEMORY_MAP name whose range contains <paramref name="address"/>, in esptool's order (what image-info prints).</summary>
    public IReadOnlyList<string> RegionNamesAt(uint address) =>
        MemoryMap.Where(r => r.Contains(address)).Select(r => r.Name).ToArray();

    /// <summary>esptool's MEMORY_MAP entry with this name (first match), like loader.get_memory_region.</summary>
    public MemoryRegion? RegionNamed(string name) => MemoryMap.FirstOrDefault(r => r.Name == name);

    /// <summary>The eFuse block that holds <paramref name="address"/>, if any.</summary>
    public EfuseBlock? EfuseBlockAt(uint address) => EfuseBlocks.FirstOrDefault(b => b.Contains(address));

    /// <summary>Chip revision (major·100 + minor) from register reads; null when not modelled (ESP8266).</summary>
    public int? ReadRevision(Func<uint, uint> read) => Revision?.Read(read);

    /// <summary>Package version from register reads, or null.</summary>
    public uint? ReadPackageVersion(Func<uint, uint> read) => PackageVersion is { } f ? BitField.Read(f, read) : null;

    /// <summary>What esptool prints after "Chip type:", e.g. <c>ESP32-D0WD-V3 (revision v3.0)</c>.</summary>
    public string DescribeChip(Func<uint, uint> read) => DescriptionRule is { } rule ? rule(this, read) : Name;

    /// <summary>What esptool prints after "Features:" (joined with ", ").</summary>
    public IReadOnlyList<string> DescribeFeatures(Func<uint, uint> read) => FeaturesRule is { } rule ? rule(this, read) : [];

    /// <summary><see cref="DescribeChip"/> against an asynchronous register reader (one READ_REG per distinct address).</summary>
    public Task<string> DescribeChipAsync(Func<uint, Task<uint>> readRegister, CancellationToken cancellationToken = default) =>
        RegisterReads.EvaluateAsync(DescribeChip, readRegister, cancellationToken);

    /// <summary><see cref="DescribeFeatures"/> against an asynchronous register reader.</summary>
    public Task<IReadOnlyList<string>> DescribeFeaturesAsync(Func<uint, Task<uint>> readRegister, CancellationToken cancellationToken = default) =>
        RegisterReads.EvaluateAsync(DescribeFeatures, readRegister, cancellationToken);

    /// <summary>
    /// Crystal frequency in MHz as esptool reports it: the fixed value for chips that have one, otherwise
    /// baud × (CLKDIV &amp; 0xFFFFF) / 1e6 / divider normalised to 48 (&gt; 45), 40 (&gt; 33) or 26.
    /// </summary>
    public int EstimateCrystalMhz(uint uartClkDivValue, int baud)
    {
        if (FixedCrystalMhz > 0) return FixedCrystalMhz;
        double est = baud * (double)(uartClkDivValue & 0xFFFFF) / 1e6 / CrystalClkDivider;
        return est > 45 ? 48 : est > 33 ? 40 : 26;
    }

    public override string ToString() => Name;

    public static readonly IReadOnlyDictionary<string, byte> DefaultFrequencies =
        new Dictionary<string, byte> { ["80m"] = 0xF, ["40m"] = 0x0, ["26m"] = 0x1, ["20m"] = 0x2 };

    public static readonly IReadOnlyDictionary<string, byte> Esp32FlashSizes = new Dictionary<string, byte>
    {
        ["1MB"] = 0x00, ["2MB"] = 0x10, ["4MB"] = 0x20, ["8MB"] = 0x30,
        ["16MB"] = 0x40, ["32MB"] = 0x50, ["64MB"] = 0x60, ["128MB"] = 0x70,
    };

    public static readonly IReadOnlyDictionary<string, byte> Esp8266FlashSizes = new Dictionary<string, byte>
    {
        ["512KB"] = 0x00, ["256KB"] = 0x10, ["1MB"] = 0x20, ["2MB"] = 0x30, ["4MB"] = 0x40,
        ["2MB-c1"] = 0x50, ["4MB-c1"] = 0x60, ["8MB"] = 0x80, ["16MB"] = 0x90,
    };
}

/// <summary>
/// Bit fields that make up the chip revision. Each field is (register address, shift, width, target shift);
/// the value is major·100 + minor, shown as v{major}.{minor}.
/// </summary>
public sealed record RevisionLayout(BitField[] Major, BitField[] Minor)
{
    /// <summary>Optional translation of the assembled major bits (the ESP32 encodes its major revision this way).</summary>
    public IReadOnlyDictionary<uint, int>? MajorMap { get; init; }

    /// <summary>
    /// When every condition holds, esptool reports v0.0 regardless of the fields (ESP32-S3 ECO0 workaround:
    /// minor low bits 0 and eFuse block version 1.1).
    /// </summary>
    public FieldCondition[]? ZeroWhen { get; init; }

    public int ReadMajor(Func<uint, uint> read)
    {
        if (IsForcedZero(read)) return 0;
        uint major = BitField.Read(Major, read);
        return MajorMap is null ? (int)major : MajorMap.TryGetValue(major, out var m) ? m : 0;
    }

    public int ReadMinor(Func<uint, uint> read) => IsForcedZero(read) ? 0 : (int)BitField.Read(Minor, read);

    /// <summary>Computes major·100 + minor from a synchronous register reader (e.g. a recorded eFuse image).</summary>
    public int Read(Func<uint, uint> read) => ReadMajor(read) * 100 + ReadMinor(read);

    /// <summary>Computes major·100 + minor from a register reader.</summary>
    public Task<int> ReadAsync(Func<uint, Task<uint>> readRegister, CancellationToken cancellationToken = default) =>
        RegisterReads.EvaluateAsync(Read, readRegister, cancellationToken);

    /// <summary>Every register address this layout may read.</summary>
    public IEnumerable<uint> Registers =>
        Major.Concat(Minor).Concat(ZeroWhen?.Select(c => c.Field) ?? []).Select(f => f.Register).Distinct();

    private bool IsForcedZero(Func<uint, uint> read) => ZeroWhen is { Length: > 0 } z && z.All(c => c.Holds(read));

    public static string Format(int revision) => $"v{revision / 100}.{revision % 100}";
}

/// <summary>A run of bits in a 32-bit register, placed at <paramref name="TargetShift"/> in the assembled value.</summary>
public sealed record BitField(uint Register, int Shift, int Width, int TargetShift = 0)
{
    public uint Extract(uint registerValue) => ((registerValue >> Shift) & ((1u << Width) - 1)) << TargetShift;

    /// <summary>ORs the extracted parts of several fields into one value.</summary>
    public static uint Read(IEnumerable<BitField> fields, Func<uint, uint> read)
    {
        uint v = 0;
        foreach (var f in fields) v |= f.Extract(read(f.Register));
        return v;
    }
}

/// <summary>"Field equals value" test on register contents.</summary>
public sealed record FieldCondition(BitField Field, uint Value)
{
    public bool Holds(Func<uint, uint> read) => Field.Extract(read(Field.Register)) == Value;
}
