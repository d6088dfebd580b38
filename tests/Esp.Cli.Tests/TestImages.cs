using Esp.Protocol.Chips;
using Esp.Protocol.Images;

namespace Esp.Cli.Tests;

/// <summary>ESP images built with the engine's image API.</summary>
internal static class TestImages
{
    public static byte[] Bytes(int n, int seed = 1)
    {
        var b = new byte[n];
        new Random(seed).NextBytes(b);
        return b;
    }

    /// <summary>An ESP32 image whose segments are in IRAM/DRAM (fit for load_ram).</summary>
    public static byte[] RamApp(ChipDefinition? chip = null, uint entry = 0x40080404)
    {
        var image = EspImage.Create(chip ?? ChipDatabase.Esp32);
        image.Entry = entry;
        image.Segments.Add(new ImageSegment(0x40080400, Bytes(0x200, 3)));
        image.Segments.Add(new ImageSegment(0x3FFB0000, Bytes(0x100, 4)));
        return image.ToBytes();
    }
}
