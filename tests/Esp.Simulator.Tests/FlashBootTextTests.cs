using System.Buffers.Binary;
using System.Text;

namespace Esp.Simulator.Tests;

/// <summary>
/// What the chip prints when it boots from flash (SPI boot), byte for byte as Espressif's QEMU printed it with the
/// real ESP32 (v3) and ESP32-C3 ROMs for the same flash contents.
/// </summary>
public class FlashBootTextTests
{
    private const string Esp32Banner = "ets Jul 29 2019 12:21:46\r\n\r\nrst:0x1 (POWERON_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)\r\n";
    private const string C3Banner = "ESP-ROM:esp32c3-api1-20210207\r\nBuild:Feb  7 2021\r\nrst:0x1 (POWERON),boot:0xc (SPI_FAST_FLASH_BOOT)\r\n";

    public static TheoryData<string, string, byte[]?, string> Cases() => new()
    {
        { "esp32", "erased flash", null, Esp32Banner + "invalid header: 0xffffffff\r\n" },
        { "esp32", "a stray word", BitConverter.GetBytes(0x0000abcdu), Esp32Banner + "invalid header: 0x0000abcd\r\n" },
        {
            "esp32", "DIO 40 MHz, two segments", Image(0, 0x40080400, 2, 0x20, 0xEE, [0, 0, 0], (0x40080400, 16), (0x3FFB0000, 32)),
            Esp32Banner + "configsip: 0, SPIWP:0xee\r\nclk_drv:0x00,q_drv:0x00,d_drv:0x00,cs0_drv:0x00,hd_drv:0x00,wp_drv:0x00\r\n" +
            "mode:DIO, clock div:2\r\nload:0x40080400,len:16\r\nload:0x3ffb0000,len:32\r\nentry 0x40080400\r\n"
        },
        {
            "esp32", "FAST_RD, drive strengths, WP pin 5", Image(0, 0x40080400, 4, 0x23, 0x05, [0x21, 0x43, 0x65], (0x40080400, 16)),
            Esp32Banner + "configsip: 0, SPIWP:0x05\r\nclk_drv:0x01,q_drv:0x02,d_drv:0x03,cs0_drv:0x04,hd_drv:0x05,wp_drv:0x06\r\n" +
            "mode:FAST_RD, clock div:1\r\nload:0x40080400,len:16\r\nentry 0x40080400\r\n"
        },
        { "esp32", "mode 6", Image(0, 0x40080400, 6, 0x27, 0xEE, [0, 0, 0], (0x40080400, 16)), Esp32Banner + "invalid header: 0x270601e9\r\n" },
        { "esp32c3", "erased flash", null, C3Banner + "invalid header: 0xffffffff\r\n" },
        {
            "esp32c3", "QOUT 80 MHz, two segments", Image(5, 0x40380400, 1, 0x2F, 0xEE, [0, 0, 0], (0x40380400, 16), (0x3FC90000, 0x1230)),
            C3Banner + "SPIWP:0xee\r\nmode:QOUT, clock div:1\r\nload:0x40380400,len:0x10\r\nload:0x3fc90000,len:0x1230\r\nentry 0x40380400\r\n"
        },
        {
            "esp32c3", "drive strengths", Image(5, 0x40380400, 2, 0x20, 0xEE, [0x21, 0x43, 0x65], (0x40380400, 16)),
            C3Banner + "SPIWP:0xee\r\nclk_drv:0x01,q_drv:0x02,d_drv:0x03,cs0_drv:0x04,hd_drv:0x05,wp_drv:0x06\r\n" +
            "mode:DIO, clock div:2\r\nload:0x40380400,len:0x10\r\nentry 0x40380400\r\n"
        },
        { "esp32c3", "SLOW_RD 20 MHz", Image(5, 0x40380400, 5, 0x22, 0xEE, [0, 0, 0], (0x40380400, 16)), C3Banner + "SPIWP:0xee\r\nmode:SLOW_RD, clock div:4\r\nload:0x40380400,len:0x10\r\nentry 0x40380400\r\n" },
        { "esp32c3", "frequency field 3", Image(5, 0x40380400, 2, 0x23, 0xEE, [0, 0, 0], (0x40380400, 16)), C3Banner + "invalid header: 0x230201e9\r\n" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void FlashBootPrintsWhatTheRomPrints(string chipKey, string flash, byte[]? bootloader, string expected)
    {
        _ = flash; // names the case in the test list
        uint at = chipKey == "esp32" ? 0x1000u : 0u;
        using var chip = Chips.New(chipKey, o => o with
        {
            PrintBootBanner = true,
            Preloads = bootloader is null ? [] : [new FlashPreload(at, bootloader)],
        });
        using var link = new TestLink(chip.OpenHostStream());
        chip.PowerOnReset(downloadMode: false);
        var last = expected[expected.TrimEnd().LastIndexOf('\n')..].Trim();
        var text = Encoding.Latin1.GetString(link.ReadUntil(last));
        Assert.Equal(expected, text + Encoding.Latin1.GetString(link.ReadFor(100)));
        Assert.Equal(ChipMode.BootedApp, chip.Mode);
    }

    /// <summary>An ESP image header (with the extended header) and segments of the given sizes (contents do not matter here).</summary>
    private static byte[] Image(ushort chipId, uint entry, byte mode, byte sizeFreq, byte wp, byte[] drive, params (uint Address, int Length)[] segments)
    {
        var image = new List<byte> { 0xE9, (byte)segments.Length, mode, sizeFreq };
        image.AddRange(BitConverter.GetBytes(entry));
        image.Add(wp);
        image.AddRange(drive);
        image.AddRange(BitConverter.GetBytes(chipId));
        image.AddRange(new byte[9]);
        image.Add(1);
        foreach (var (address, length) in segments)
        {
            var header = new byte[8];
            BinaryPrimitives.WriteUInt32LittleEndian(header, address);
            BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(4), (uint)length);
            image.AddRange(header);
            image.AddRange(new byte[length]);
        }
        return [.. image];
    }
}
