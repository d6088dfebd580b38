namespace Esp.Protocol.Chips;

/// <summary>Which SPI controller registers run a user SPI flash command (protocol-facts §5).</summary>
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

public enum MemoryKind { Iram, Dram, Unified, Rom, FlashCode, FlashData, Rtc, Peripheral, ExternalRam }

public sealed record MemoryRegion(string Name, uint Start, uint End, MemoryKind Kind)
{
    public bool Contains(uint address, uint length = 1) => address >= Start && (ulong)address + length <= End;
    public bool Overlaps(uint address, uint length) => address < End && (ulong)address + length > Start;
    public bool IsRam => Kind is MemoryKind.Iram or MemoryKind.Dram or MemoryKind.Unified or MemoryKind.Rtc;
}

/// <summary>Where a flasher stub release sits in RAM (end addresses exclusive), for the load_ram overlap guard.</summary>
public sealed record StubLocation(string Version, uint TextStart, uint TextEnd, uint DataStart, uint DataEnd, uint Entry);

/// <summary>How the factory MAC address is stored in eFuse (protocol-facts §9.5).</summary>
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
    public StubLocation[] StubLocations { get; init; } = [];
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

    public bool IsEsp8266 => Key == "esp8266";

    public StubLocation? StubFor(string? version = null) =>
        StubLocations.FirstOrDefault(s => version is null || s.Version == version) ?? StubLocations.FirstOrDefault();

    public MemoryRegion? RegionAt(uint address) => MemoryMap.FirstOrDefault(r => r.Contains(address));

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
/// Bit fields that make up the chip revision. Each field is (register address, shift, width); the value is
/// major·100 + minor, shown as v{major}.{minor}.
/// </summary>
public sealed record RevisionLayout(BitField[] Major, BitField[] Minor)
{
    /// <summary>Optional translation of the assembled major bits (the ESP32 encodes its major revision this way).</summary>
    public IReadOnlyDictionary<uint, int>? MajorMap { get; init; }

    /// <summary>Computes major·100 + minor from a register reader.</summary>
    public async Task<int> ReadAsync(Func<uint, Task<uint>> readRegister)
    {
        uint major = 0, minor = 0;
        foreach (var f in Major) major |= f.Extract(await readRegister(f.Register).ConfigureAwait(false));
        foreach (var f in Minor) minor |= f.Extract(await readRegister(f.Register).ConfigureAwait(false));
        int majorValue = MajorMap is null ? (int)major : MajorMap.TryGetValue(major, out var m) ? m : 0;
        return majorValue * 100 + (int)minor;
    }

    public static string Format(int revision) => $"v{revision / 100}.{revision % 100}";
}

/// <summary>A run of bits in a 32-bit register, placed at <paramref name="TargetShift"/> in the assembled value.</summary>
public sealed record BitField(uint Register, int Shift, int Width, int TargetShift = 0)
{
    public uint Extract(uint registerValue) => ((registerValue >> Shift) & ((1u << Width) - 1)) << TargetShift;
}
