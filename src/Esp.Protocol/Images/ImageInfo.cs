using System.Text;
using Esp.Protocol.Chips;

namespace Esp.Protocol.Images;

/// <summary>Readable descriptions of images, in the spirit of esptool's image_info.</summary>
public static class ImageInfo
{
    /// <summary>
    /// Describes an image: header fields (with names from the chip's tables), the extended header, one line per
    /// segment with the memory regions of <paramref name="chip"/> it loads into, the checksum and the hash.
    /// With <paramref name="chip"/> null the chip is taken from the image's chip id (ESP8266 for ESP8266 layouts).
    /// </summary>
    public static string Describe(EspImage image, ChipDefinition? chip = null)
    {
        ArgumentNullException.ThrowIfNull(image);
        chip ??= image.Format == ImageFormat.Esp32 ? ChipDatabase.ByImageChipId(image.ChipId) : ChipDatabase.Esp8266;
        var sb = new StringBuilder();
        void Line(string s = "") => sb.Append(s).Append('\n');
        void Title(string s) { Line(s); Line(new string('=', s.Length)); }

        if (image.ImageLength > 0) Line($"Image size: {image.ImageLength} bytes");
        Title($"{(chip?.Name ?? "ESP")} Image Header");
        Line($"Image version: {(image.Format == ImageFormat.Esp8266V2 ? 2 : 1)}");
        Line($"Entry point: 0x{image.Entry:x8}");
        Line($"Segments: {image.Segments.Count}");
        Line($"Flash size: {(chip is null ? null : image.FlashSizeName(chip)) ?? $"unknown (0x{image.FlashSizeCode:x2})"}");
        Line($"Flash freq: {(chip is null ? null : image.FlashFrequencyName(chip)) ?? $"unknown (0x{image.FlashFrequencyCode:x})"}");
        Line($"Flash mode: {(Enum.IsDefined(image.FlashMode) ? image.FlashMode.ToString().ToUpperInvariant() : $"unknown (0x{(byte)image.FlashMode:x2})")}");

        if (image.Format == ImageFormat.Esp32)
        {
            Line();
            Title($"{(chip?.Name ?? "ESP")} Extended Image Header");
            Line($"WP pin: 0x{image.WpPin:x2}{(image.WpPin == EspImage.WpPinDisabled ? " (disabled)" : "")}");
            Line($"Flash pins drive settings: clk_drv: 0x{image.ClkDrive:x}, q_drv: 0x{image.QDrive:x}, d_drv: 0x{image.DDrive:x}, " +
                 $"cs_drv: 0x{image.CsDrive:x}, hd_drv: 0x{image.HdDrive:x}, wp_drv: 0x{image.WpDrive:x}");
            Line($"Chip ID: {image.ChipId} ({ChipDatabase.ByImageChipId(image.ChipId)?.Name ?? "unknown chip"})");
            Line($"Minimal chip revision: {RevisionLayout.Format(image.MinRevFull)}, (legacy min_rev = {image.MinRev})");
            Line($"Maximal chip revision: {(image.MaxRevFull == 0xFFFF ? "no limit" : RevisionLayout.Format(image.MaxRevFull))}");
        }

        if (image.IromSegment is { } irom)
        {
            Line();
            Line(image.Format == ImageFormat.Esp8266V2
                ? $"IROM segment: length 0x{irom.Length:x} (mapped from flash, not checksummed)"
                : $"IROM segment: load 0x{irom.Address:x8}, length 0x{irom.Length:x}, flash it separately at 0x{image.Esp8266IromFlashOffset ?? 0:x}");
        }

        Line();
        Title("Segments Information");
        Line("Segment   Length   Load addr   File offs  Memory types");
        Line("-------  -------  ----------  ----------  ------------");
        for (int i = 0; i < image.Segments.Count; i++)
        {
            var s = image.Segments[i];
            string types = s.IsPadding ? "PADDING" : RegionNames(chip, s);
            string offs = s.FileOffset >= 0 ? $"0x{s.FileOffset:x8}" : "         -";
            Line($"{i,7}  0x{s.Length:x5}  0x{s.Address:x8}  {offs}  {types}");
        }

        Line();
        Title($"{(chip?.Name ?? "ESP")} Image Footer");
        string validity = image.StoredChecksum is null ? "(computed)" : image.ChecksumValid ? "(valid)" : $"(invalid - calculated 0x{image.ComputedChecksum:x2})";
        Line($"Checksum: 0x{image.StoredChecksum ?? image.ComputedChecksum:x2} {validity}");
        if (image.Format == ImageFormat.Esp32)
        {
            if (!image.HashAppended) Line("Validation hash: not appended");
            else if (image.StoredSha256 is { } stored)
                Line($"Validation hash: {Convert.ToHexStringLower(stored)} " +
                     (image.Sha256Valid == true ? "(valid)" : $"(invalid - calculated {Convert.ToHexStringLower(image.ComputedSha256!)})"));
            else Line("Validation hash: appended when written");
        }
        if (image.StoredCrc is { } crc)
            Line($"CRC32: 0x{crc:x8} {(image.CrcValid == true ? "(valid)" : $"(invalid - calculated 0x{image.ComputedCrc:x8})")}");
        foreach (var w in image.Warnings) Line($"Warning: {w}");
        return sb.ToString();
    }

    /// <summary>Names of the chip's memory regions that overlap a segment, or "unknown".</summary>
    public static string RegionNames(ChipDefinition? chip, ImageSegment segment)
    {
        ArgumentNullException.ThrowIfNull(segment);
        if (chip is null) return "unknown";
        var names = chip.MemoryMap.Where(r => r.Overlaps(segment.Address, (uint)Math.Max(1, segment.Length))).Select(r => r.Name).ToList();
        return names.Count == 0 ? "unknown" : string.Join(", ", names);
    }
}
