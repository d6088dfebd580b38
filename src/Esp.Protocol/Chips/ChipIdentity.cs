namespace Esp.Protocol.Chips;

/// <summary>
/// The "Chip type:" and "Features:" rules esptool applies to eFuse values, restated per chip. All rules are
/// pure functions of register reads.
/// </summary>
internal static class ChipIdentity
{
    private static uint Get(BitField[]? fields, Func<uint, uint> read) => fields is null ? 0 : BitField.Read(fields, read);

    private static string WithRevision(ChipDefinition chip, string name, Func<uint, uint> read)
    {
        var layout = chip.Revision!;
        return $"{name} (revision v{layout.ReadMajor(read)}.{layout.ReadMinor(read)})";
    }

    /// <summary>Name from <see cref="ChipDefinition.PackageNames"/> (else "Unknown &lt;name&gt;") plus the revision.</summary>
    public static string ByPackage(ChipDefinition chip, Func<uint, uint> read)
    {
        uint pkg = Get(chip.PackageVersion, read);
        string name = chip.PackageNames is { } names && names.TryGetValue(pkg, out var n) ? n : $"Unknown {chip.Name}";
        return WithRevision(chip, name, read);
    }

    // ---- ESP8266: OTP words at 0x3FF00050 + 4n form one 128-bit value; bit b of it = word b/32, bit b%32.
    private static bool OtpBit(ChipDefinition chip, Func<uint, uint> read, int bit) =>
        ((read(chip.MacRegister + (uint)(bit / 32) * 4) >> (bit % 32)) & 1) != 0;

    public static string Esp8266Description(ChipDefinition chip, Func<uint, uint> read)
    {
        bool is8285 = OtpBit(chip, read, 4) || OtpBit(chip, read, 80);
        if (!is8285) return "ESP8266EX";
        bool r0_4 = OtpBit(chip, read, 4), r3_25 = OtpBit(chip, read, 121);
        bool r3_26 = OtpBit(chip, read, 122), r3_27 = OtpBit(chip, read, 123);
        int flashMb = -1;
        if (r0_4 && !r3_25 && !r3_27) flashMb = r3_26 ? 2 : 1;
        else if (!r0_4 && r3_25 && !r3_27) flashMb = r3_26 ? 4 : 2;
        bool maxTemp = OtpBit(chip, read, 5);
        return flashMb switch
        {
            1 => maxTemp ? "ESP8285H08" : "ESP8285N08",
            2 => maxTemp ? "ESP8285H16" : "ESP8285N16",
            _ => "ESP8285",
        };
    }

    public static IReadOnlyList<string> Esp8266Features(ChipDefinition chip, Func<uint, uint> read) =>
        Esp8266Description(chip, read).Contains("ESP8285", StringComparison.Ordinal)
            ? ["Wi-Fi", "160MHz", "Embedded Flash"]
            : ["Wi-Fi", "160MHz"];

    // ---- ESP32: BLK0 words at EfuseBase + 4n.
    private static uint Esp32Word(ChipDefinition chip, Func<uint, uint> read, int n) => read(chip.EfuseBase + (uint)n * 4);

    public static string Esp32Description(ChipDefinition chip, Func<uint, uint> read)
    {
        uint pkg = Get(chip.PackageVersion, read);
        bool rev3 = chip.Revision!.ReadMajor(read) == 3;
        bool singleCore = (Esp32Word(chip, read, 3) & 1) != 0;
        string name = pkg switch
        {
            0 => singleCore ? "ESP32-S0WDQ6" : rev3 ? "ESP32-D0WDQ6-V3" : "ESP32-D0WDQ6",
            1 => singleCore ? "ESP32-S0WD" : rev3 ? "ESP32-D0WD-V3" : "ESP32-D0WD",
            2 => "ESP32-D2WD",
            4 => "ESP32-U4WDH",
            5 => rev3 ? "ESP32-PICO-V3" : "ESP32-PICO-D4",
            6 => "ESP32-PICO-V3-02",
            7 => "ESP32-D0WDR2-V3",
            _ => "Unknown ESP32",
        };
        return WithRevision(chip, name, read);
    }

    public static IReadOnlyList<string> Esp32Features(ChipDefinition chip, Func<uint, uint> read)
    {
        var features = new List<string> { "Wi-Fi" };
        uint word3 = Esp32Word(chip, read, 3);
        if ((word3 & (1u << 1)) == 0) features.Add("BT");
        features.Add((word3 & 1) != 0 ? "Single Core + LP Core" : "Dual Core + LP Core");
        if ((word3 & (1u << 13)) != 0) features.Add((word3 & (1u << 12)) != 0 ? "160MHz" : "240MHz");
        uint pkg = Get(chip.PackageVersion, read);
        if (pkg is 2 or 4 or 5 or 6) features.Add("Embedded Flash");
        if (pkg == 6) features.Add("Embedded PSRAM");
        if (((Esp32Word(chip, read, 4) >> 8) & 0x1F) != 0) features.Add("Vref calibration in eFuse");
        if (((word3 >> 14) & 1) != 0) features.Add("BLK3 partially reserved");
        features.Add("Coding Scheme " + (Esp32Word(chip, read, 6) & 3) switch
        {
            0 => "None",
            1 => "3/4",
            2 => "Repeat (UNSUPPORTED)",
            _ => "None (may contain encoding data)",
        });
        return features;
    }

    // ---- ESP32-S2: the name comes from flash + 100·PSRAM capability.
    public static string Esp32S2Description(ChipDefinition chip, Func<uint, uint> read)
    {
        uint key = Get(chip.FlashCap, read) + Get(chip.PsramCap, read) * 100;
        string name = key switch
        {
            0 => "ESP32-S2",
            1 => "ESP32-S2FH2",
            2 => "ESP32-S2FH4",
            102 => "ESP32-S2FNR2",
            100 => "ESP32-S2R2",
            _ => "Unknown ESP32-S2",
        };
        return WithRevision(chip, name, read);
    }

    /// <summary>BLOCK2 (SYS_DATA) word 4 bits 4–6 on the S2: calibration version.</summary>
    internal static BitField Esp32S2Block2Version => new(0x3F41A05C + 16, 4, 3);

    public static IReadOnlyList<string> Esp32S2Features(ChipDefinition chip, Func<uint, uint> read)
    {
        string flash = Get(chip.FlashCap, read) switch
        {
            0 => "No Embedded Flash",
            1 => "Embedded Flash 2MB",
            2 => "Embedded Flash 4MB",
            _ => "Unknown Embedded Flash",
        };
        string psram = Get(chip.PsramCap, read) switch
        {
            0 => "No Embedded PSRAM",
            1 => "Embedded PSRAM 2MB",
            2 => "Embedded PSRAM 4MB",
            _ => "Unknown Embedded PSRAM",
        };
        string blk2 = BitField.Read([Esp32S2Block2Version], read) switch
        {
            0 => "No calibration in BLK2 of efuse",
            1 => "ADC and temperature sensor calibration in BLK2 of eFuse V1",
            2 => "ADC and temperature sensor calibration in BLK2 of eFuse V2",
            _ => "Unknown calibration in BLK2",
        };
        return ["Wi-Fi", "Single Core", "240MHz", flash, psram, blk2];
    }

    // ---- Chips whose features are a fixed list plus optional "Embedded Flash/PSRAM … (vendor)" entries.
    private static string Vendor(IReadOnlyDictionary<uint, string> names, BitField[]? field, Func<uint, uint> read) =>
        names.TryGetValue(Get(field, read), out var v) ? v : "";

    private static readonly Dictionary<uint, string> FlashVendorsZbit = new() { [1] = "XMC", [2] = "GD", [3] = "FM", [4] = "TT", [5] = "ZBIT" };
    private static readonly Dictionary<uint, string> FlashVendorsBy = new() { [1] = "XMC", [2] = "GD", [3] = "FM", [4] = "TT", [5] = "BY" };
    private static readonly Dictionary<uint, string> PsramVendors = new() { [1] = "AP_3v3", [2] = "AP_1v8" };

    private static void AddEmbedded(List<string> features, uint cap, IReadOnlyDictionary<uint, string> sizes, string kind, string vendor)
    {
        if (cap == 0) return;
        string text = sizes.TryGetValue(cap, out var size) ? $"Embedded {kind} {size}" : $"Unknown Embedded {kind}";
        features.Add($"{text} ({vendor})");
    }

    public static IReadOnlyList<string> Esp32S3Features(ChipDefinition chip, Func<uint, uint> read)
    {
        var f = new List<string> { "Wi-Fi", "BT 5 (LE)", "Dual Core + LP Core", "240MHz" };
        AddEmbedded(f, Get(chip.FlashCap, read), new Dictionary<uint, string> { [1] = "8MB", [2] = "4MB" }, "Flash",
            Vendor(FlashVendorsBy, chip.FlashVendor, read));
        AddEmbedded(f, Get(chip.PsramCap, read),
            new Dictionary<uint, string> { [1] = "8MB", [2] = "2MB", [3] = "16MB", [4] = "4MB" }, "PSRAM",
            Vendor(PsramVendors, chip.PsramVendor, read));
        return f;
    }

    public static IReadOnlyList<string> Esp32C2Features(ChipDefinition chip, Func<uint, uint> read)
    {
        var f = new List<string> { "Wi-Fi", "BT 5 (LE)", "Single Core", "120MHz" };
        AddEmbedded(f, Get(chip.FlashCap, read), new Dictionary<uint, string> { [1] = "4MB", [2] = "2MB", [3] = "1MB" }, "Flash",
            Vendor(FlashVendorsZbit, chip.FlashVendor, read));
        return f;
    }

    public static IReadOnlyList<string> Esp32C3Features(ChipDefinition chip, Func<uint, uint> read)
    {
        var f = new List<string> { "Wi-Fi", "BT 5 (LE)", "Single Core", "160MHz" };
        AddEmbedded(f, Get(chip.FlashCap, read),
            new Dictionary<uint, string> { [1] = "4MB", [2] = "2MB", [3] = "1MB", [4] = "8MB" }, "Flash",
            Vendor(FlashVendorsZbit, chip.FlashVendor, read));
        return f;
    }

    // ---- ESP32-C6: package 1 is named by its flash capability; the feature list always ends with a flash entry.
    public static string Esp32C6Description(ChipDefinition chip, Func<uint, uint> read)
    {
        uint pkg = Get(chip.PackageVersion, read);
        string name = "Unknown ESP32-C6";
        if (pkg == 0) name = "ESP32-C6 (QFN40)";
        else if (pkg == 1)
        {
            uint cap = Get(chip.FlashCap, read);
            if (cap == 1) name = "ESP32-C6FH4 (QFN32)";
            else if (cap == 2) name = "ESP32-C6FH8 (QFN32)";
        }
        return WithRevision(chip, name, read);
    }

    public static IReadOnlyList<string> Esp32C6Features(ChipDefinition chip, Func<uint, uint> read)
    {
        string flash = Get(chip.FlashCap, read) switch
        {
            1 => "Embedded Flash 4MB",
            2 => "Embedded Flash 8MB",
            _ => "Unknown Embedded Flash",
        };
        return ["Wi-Fi 6", "BT 5 (LE)", "IEEE802.15.4", "Single Core + LP Core", "160MHz", flash];
    }

    public static Func<ChipDefinition, Func<uint, uint>, IReadOnlyList<string>> Fixed(params string[] features) =>
        (_, _) => features;
}
