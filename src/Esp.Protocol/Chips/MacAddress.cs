using Esp.Protocol.Errors;

namespace Esp.Protocol.Chips;

/// <summary>
/// Factory MAC address from eFuse / OTP register words, as esptool's <c>read_mac</c> assembles it
/// (layouts: <see cref="MacLayout"/>; corrections: docs/protocol-facts-corrections.md). Pure functions of register
/// values; the engine passes READ_REG results.
/// </summary>
public static class MacAddress
{
    /// <summary>OUI of the ESP8266 when OTP word 3 is zero and MAC1 bits 16–23 are 0.</summary>
    public static readonly byte[] Esp8266Oui0 = [0x18, 0xFE, 0x34];
    /// <summary>OUI of the ESP8266 when OTP word 3 is zero and MAC1 bits 16–23 are 1.</summary>
    public static readonly byte[] Esp8266Oui1 = [0xAC, 0xD0, 0x74];

    /// <summary>The registers <see cref="FromRegisters"/> reads, in esptool's order.</summary>
    public static uint[] Registers(ChipDefinition chip) => chip.MacLayout switch
    {
        MacLayout.Esp8266Otp => [chip.MacRegister, chip.MacRegister + 4, chip.MacRegister + 12],
        MacLayout.Esp32Blk0 => [chip.MacRegister + 4, chip.MacRegister],
        _ => [chip.MacRegister, chip.MacRegister + 4],
    };

    /// <summary>The 6-byte base MAC.</summary>
    /// <exception cref="EspException">ESP8266 OTP holds an OUI selector esptool does not know ("Unknown OUI").</exception>
    public static byte[] FromRegisters(ChipDefinition chip, Func<uint, uint> read)
    {
        ArgumentNullException.ThrowIfNull(chip);
        ArgumentNullException.ThrowIfNull(read);
        switch (chip.MacLayout)
        {
            case MacLayout.Esp8266Otp:
            {
                uint m0 = read(chip.MacRegister), m1 = read(chip.MacRegister + 4), m3 = read(chip.MacRegister + 12);
                byte[] oui;
                if (m3 != 0) oui = [(byte)(m3 >> 16), (byte)(m3 >> 8), (byte)m3];
                else if (((m1 >> 16) & 0xFF) == 0) oui = Esp8266Oui0;
                else if (((m1 >> 16) & 0xFF) == 1) oui = Esp8266Oui1;
                else throw new EspException(EspErrorCode.UnknownChip,
                    $"Unknown OUI: ESP8266 OTP word 1 is 0x{m1:X8} and word 3 is 0; cannot build the MAC address.",
                    "The OTP eFuses are not those of a genuine ESP8266; pass the MAC explicitly if you need one.");
                return [oui[0], oui[1], oui[2], (byte)(m1 >> 8), (byte)m1, (byte)(m0 >> 24)];
            }
            case MacLayout.Esp32Blk0:
            {
                // BLK0 word 2 (upper 16 bits are a CRC) then word 1.
                uint w2 = read(chip.MacRegister + 4), w1 = read(chip.MacRegister);
                return Join(w2, w1);
            }
            default:
            {
                uint m0 = read(chip.MacRegister), m1 = read(chip.MacRegister + 4);
                return Join(m1, m0);
            }
        }
    }

    /// <summary>The 16-bit MAC_EXT (high half of MAC word 1) on chips with <see cref="ChipDefinition.HasMacExt"/>; otherwise null.</summary>
    public static byte[]? MacExt(ChipDefinition chip, Func<uint, uint> read)
    {
        ArgumentNullException.ThrowIfNull(chip);
        ArgumentNullException.ThrowIfNull(read);
        if (!chip.HasMacExt) return null;
        uint m1 = read(chip.MacRegister + 4);
        return [(byte)(m1 >> 24), (byte)(m1 >> 16)];
    }

    /// <summary>EUI-64 = MAC[0..2] + MAC_EXT + MAC[3..5] on chips with <see cref="ChipDefinition.HasMacExt"/>; otherwise null.</summary>
    public static byte[]? Eui64(ChipDefinition chip, Func<uint, uint> read)
    {
        var ext = MacExt(chip, read);
        if (ext is null) return null;
        var mac = FromRegisters(chip, read);
        return [mac[0], mac[1], mac[2], ext[0], ext[1], mac[3], mac[4], mac[5]];
    }

    /// <summary><see cref="FromRegisters"/> against an asynchronous register reader.</summary>
    public static Task<byte[]> FromRegistersAsync(ChipDefinition chip, Func<uint, Task<uint>> readRegister, CancellationToken cancellationToken = default) =>
        RegisterReads.EvaluateAsync(read => FromRegisters(chip, read), readRegister, cancellationToken);

    /// <summary>
    /// Lines esptool prints for a MAC: <c>("MAC", eui64), ("BASE MAC", mac), ("MAC_EXT", ext)</c> on chips with
    /// MAC_EXT, otherwise just <c>("MAC", mac)</c>.
    /// </summary>
    public static IReadOnlyList<(string Label, string Value)> DescribeLines(ChipDefinition chip, Func<uint, uint> read)
    {
        var mac = FromRegisters(chip, read);
        if (Eui64(chip, read) is { } eui)
            return [("MAC", Format(eui)), ("BASE MAC", Format(mac)), ("MAC_EXT", Format(MacExt(chip, read)!))];
        return [("MAC", Format(mac))];
    }

    /// <summary>Lower-case hex bytes joined with ':' (esptool's format).</summary>
    public static string Format(ReadOnlySpan<byte> bytes) => string.Join(':', bytes.ToArray().Select(b => b.ToString("x2")));

    /// <summary>ESP8266 chip id as esptool's <c>chip_id</c> computes it: (MAC0 &gt;&gt; 24) | ((MAC1 &amp; 0xFFFFFF) &lt;&lt; 8).</summary>
    public static uint Esp8266ChipId(ChipDefinition chip, Func<uint, uint> read)
    {
        ArgumentNullException.ThrowIfNull(chip);
        ArgumentNullException.ThrowIfNull(read);
        if (chip.MacLayout != MacLayout.Esp8266Otp)
            throw new EspException(EspErrorCode.InvalidArgument, $"{chip.Name} has no chip ID; esptool reads the MAC address instead.");
        return (read(chip.MacRegister) >> 24) | ((read(chip.MacRegister + 4) & 0xFFFFFF) << 8);
    }

    // MAC = hi bits 15–8, hi bits 7–0, lo bits 31–24, 23–16, 15–8, 7–0.
    private static byte[] Join(uint hi, uint lo) =>
        [(byte)(hi >> 8), (byte)hi, (byte)(lo >> 24), (byte)(lo >> 16), (byte)(lo >> 8), (byte)lo];
}
