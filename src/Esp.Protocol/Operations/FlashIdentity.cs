using Esp.Protocol.Loader;

namespace Esp.Protocol.Operations;

/// <summary>The JEDEC id (RDID 9Fh) and what it says about the flash.</summary>
public sealed record FlashIdentity(uint RawId, byte Manufacturer, ushort Device, int? Size)
{
    public static FlashIdentity FromId(uint id) =>
        new(id, (byte)id, (ushort)(((id >> 8) & 0xFF) << 8 | ((id >> 16) & 0xFF)), SizeFromId(id));

    /// <summary>Flash size in bytes from the capacity byte, or null when unknown.</summary>
    public static int? SizeFromId(uint id)
    {
        byte manufacturer = (byte)id;
        if (manufacturer == 0x1F)
        {
            // Adesto encodes the size in bits 8–12.
            int adesto = (int)((id >> 8) & 0x1F);
            return adesto is >= 4 and <= 9 ? (512 * 1024) << (adesto - 4) : null;
        }
        byte capacity = (byte)(id >> 16);
        int? log2 = capacity switch
        {
            0x12 or 0x32 => 18,
            0x13 or 0x33 => 19,
            0x14 or 0x34 => 20,
            0x15 or 0x35 => 21,
            0x16 or 0x36 => 22,
            0x17 or 0x37 => 23,
            0x18 or 0x38 => 24,
            0x19 or 0x39 => 25,
            0x1A or 0x3A or 0x20 => 26,
            0x1B or 0x21 => 27,
            0x1C or 0x22 => 28,
            _ => null,
        };
        return log2 is { } l && l <= 30 ? 1 << l : null;
    }

    public static string FormatSize(long bytes) =>
        bytes >= 1024 * 1024 && bytes % (1024 * 1024) == 0 ? $"{bytes / (1024 * 1024)}MB" : $"{bytes / 1024}KB";

    public static async Task<FlashIdentity> ReadAsync(EspSession session, CancellationToken ct = default)
    {
        await session.EnsureFlashAttachedAsync(ct).ConfigureAwait(false);
        uint id = session.FlashId ?? await SpiFlash.RunCommandAsync(session, 0x9F, readBits: 24, ct: ct).ConfigureAwait(false);
        return FromId(id);
    }
}
