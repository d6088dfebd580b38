using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace Esp.Simulator;

/// <summary>Which ROM's flash-boot text follows the banner (none: the banner alone).</summary>
internal enum RomBootTextKind
{
    None,
    Esp32,
    Esp32C3,
}

/// <summary>
/// What the ROM prints after its banner when it boots from flash: it reads the second-stage bootloader's image header
/// and prints the SPI settings, one line per segment it loads and the entry point, or <c>invalid header</c> with the
/// first word when it does not take the header. Taken from Espressif's QEMU running the real ESP32 (v3) and ESP32-C3
/// ROMs with the SPI boot strap, for erased flash, a stray word and valid images with every flash mode and frequency;
/// header values those ROMs were not seen to take are treated as not taken. The ROMs repeat the
/// <c>invalid header</c> line (QEMU's ESP32 every few seconds, the ESP32-C3 without pause); this chip prints it once.
/// </summary>
internal static class RomBootText
{
    private const byte ImageMagic = 0xE9;
    private const int HeaderLength = 24; // 8-byte header + 16-byte extended header
    private const int MaxSegments = 16;

    private static readonly string[] FlashModes = ["QIO", "QOUT", "DIO", "DOUT", "FAST_RD", "SLOW_RD"];

    public static string For(RomBootTextKind kind, SimFlash flash)
    {
        if (kind == RomBootTextKind.None) return "";
        bool esp32 = kind == RomBootTextKind.Esp32;
        uint offset = esp32 ? 0x1000u : 0u;
        var header = flash.Read(offset, HeaderLength);
        uint first = BinaryPrimitives.ReadUInt32LittleEndian(header);
        int segments = header[1], mode = header[2], freq = header[3] & 0xF;
        uint entry = BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(4));
        if (header[0] != ImageMagic || mode >= FlashModes.Length || ClockDivider(freq, esp32) is not { } div)
            return F($"invalid header: 0x{first:x8}\r\n");

        var text = new StringBuilder();
        byte wp = header[8];
        string drive = F($"clk_drv:0x{header[9] & 0xF:x2},q_drv:0x{header[9] >> 4:x2},d_drv:0x{header[10] & 0xF:x2},") +
            F($"cs0_drv:0x{header[10] >> 4:x2},hd_drv:0x{header[11] & 0xF:x2},wp_drv:0x{header[11] >> 4:x2}\r\n");
        if (esp32)
        {
            text.Append(F($"configsip: 0, SPIWP:0x{wp:x2}\r\n")).Append(drive);
        }
        else
        {
            text.Append(F($"SPIWP:0x{wp:x2}\r\n"));
            if (header[9] != 0 || header[10] != 0 || header[11] != 0) text.Append(drive);
        }
        text.Append(F($"mode:{FlashModes[mode]}, clock div:{div}\r\n"));

        long at = offset + HeaderLength;
        for (int i = 0; i < Math.Min(segments, MaxSegments) && at + 8 <= flash.Size; i++)
        {
            var segment = flash.Read((uint)at, 8);
            uint address = BinaryPrimitives.ReadUInt32LittleEndian(segment);
            uint length = BinaryPrimitives.ReadUInt32LittleEndian(segment.AsSpan(4));
            text.Append(esp32 ? F($"load:0x{address:x8},len:{length}\r\n") : F($"load:0x{address:x8},len:0x{length:x}\r\n"));
            at += 8L + length;
        }
        text.Append(F($"entry 0x{entry:x8}\r\n"));
        return text.ToString();
    }

    /// <summary>The SPI clock divider for the header's frequency field: 40, 26, 20 and 80 MHz (the ESP32 also takes 3, as 80 MHz).</summary>
    private static int? ClockDivider(int freq, bool esp32) => freq switch
    {
        0x0 => 2,
        0x1 => 3,
        0x2 => 4,
        0x3 when esp32 => 1,
        0xF => 1,
        _ => null,
    };

    private static string F(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
