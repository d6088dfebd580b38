using System.Globalization;

namespace Esp.Simulator;

/// <summary>eFuse words and peripheral reset values derived from the configured identity (§9.5).</summary>
internal static class Identity
{
    public static readonly Dictionary<string, string> DefaultMacs = new()
    {
        ["esp8266"] = "5c:cf:7f:01:02:03", ["esp32"] = "24:0a:c4:01:02:03", ["esp32s2"] = "7c:df:a1:01:02:03",
        ["esp32s3"] = "f4:12:fa:01:02:03", ["esp32c2"] = "08:3a:8d:01:02:03", ["esp32c3"] = "58:cf:79:01:02:03",
        ["esp32c5"] = "d0:cf:13:01:02:03", ["esp32c6"] = "40:4c:ca:01:02:03", ["esp32c61"] = "24:58:7c:01:02:03",
        ["esp32h2"] = "74:4d:bd:01:02:03", ["esp32p4"] = "30:ed:a0:01:02:03",
    };

    public static int DefaultRevision(string key) => key switch { "esp32" => 300, "esp32c3" => 3, _ => 0 };

    public static byte[] ParseMac(string mac)
    {
        var parts = mac.Split(':', '-');
        if (parts.Length != 6) throw new ArgumentException($"MAC '{mac}' must have six hex bytes separated by ':'.");
        return parts.Select(p => byte.Parse(p, NumberStyles.HexNumber, CultureInfo.InvariantCulture)).ToArray();
    }

    /// <summary>CRC-8 (poly 0x8C reflected, init 0) that the ESP32 stores next to its MAC.</summary>
    public static byte Esp32MacCrc(ReadOnlySpan<byte> mac)
    {
        byte r = 0;
        foreach (var b in mac)
        {
            r ^= b;
            for (var i = 0; i < 8; i++) r = (byte)((r & 1) != 0 ? (r >> 1) ^ 0x8C : r >> 1);
        }
        return r;
    }

    public static Dictionary<uint, uint> Efuse(ChipProfile p, byte[] m, int revision)
    {
        var d = new Dictionary<uint, uint>();
        int major = revision / 100, minor = revision % 100;
        switch (p.Key)
        {
            case "esp8266":
                d[0x3FF00050] = (uint)m[5] << 24;
                d[0x3FF00054] = (uint)(m[3] << 8 | m[4]);
                d[0x3FF00058] = 0;
                d[0x3FF0005C] = (uint)(m[0] << 16 | m[1] << 8 | m[2]);
                break;
            case "esp32":
            {
                const uint b = 0x3FF5A000;
                d[b] = 0;
                d[b + 4] = (uint)(m[2] << 24 | m[3] << 16 | m[4] << 8 | m[5]);
                d[b + 8] = (uint)(Esp32MacCrc(m) << 16 | m[0] << 8 | m[1]);
                d[b + 12] = (1u << 9) | (major >= 1 ? 1u << 15 : 0);        // package D0WD, CHIP_VER_REV1
                d[b + 16] = 0x50;                                          // CK8M_FREQ
                d[b + 20] = (major >= 2 ? 1u << 20 : 0) | ((uint)(minor & 3) << 24);
                d[b + 24] = 0;
                break;
            }
            default:
            {
                if (p.MacAddress is not { } mac) break;
                d[mac] = (uint)(m[2] << 24 | m[3] << 16 | m[4] << 8 | m[5]);
                d[mac + 4] = (uint)(m[0] << 8 | m[1]);
                if (p.Key is "esp32c3" or "esp32s3")
                {
                    d[mac + 12] = (uint)(minor & 7) << 18;
                    d[mac + 20] = ((uint)(minor >> 3) & 1) << 23 | ((uint)major & 3) << 24;
                }
                else if (p.Key is "esp32c6" or "esp32h2")
                {
                    d[mac + 12] = ((uint)minor & 0xF) << 18 | ((uint)major & 3) << 22;
                }
                break;
            }
        }
        return d;
    }

    public static Dictionary<uint, uint> ResetRegisters(ChipProfile p, int revision, bool download, bool qemuLike)
    {
        var d = new Dictionary<uint, uint>();
        if (p.IsEsp32)
        {
            d[0x3FF6607C] = 0x16042000 | (revision / 100 >= 3 ? 0x80000000 : 0); // APB_CTRL_DATE
            d[0x3FF5F06C] = 0x00028000;                                          // RTCCALICFG1 (gives 40 MHz with CK8M_FREQ 0x50)
            d[0x3FF44038] = qemuLike ? 0x0Fu : download ? 0x03u : 0x13u;         // GPIO_STRAP (QEMU straps UART_BOOT 0x0f)
            d[0x3FF48074] = 0;                                                   // RTC_CNTL_SDIO_CONF
        }
        return d;
    }

    public static (uint User, uint User2) SpiResetValues(ChipProfile p) => p.Key switch
    {
        "esp32" => (0x00000000, 0x40000000),
        "esp8266" => (0x80000064, 0x70000000),
        _ => (0x800000C0, 0x70000000),
    };
}
