using Esp.Protocol.Chips;
using Esp.Protocol.Errors;

namespace Esp.Protocol.Images;

/// <summary>Options for <see cref="MergeBin"/>.</summary>
public sealed record MergeOptions
{
    /// <summary>Flash address of the first byte of a raw output (parts may not start before it).</summary>
    public uint TargetOffset { get; init; }
    /// <summary>Raw output only: fill with 0xFF up to this flash address (e.g. the flash size).</summary>
    public uint? PadToSize { get; init; }
    /// <summary>Chip whose bootloader image (the part at <see cref="ChipDefinition.BootloaderOffset"/>) gets its flash parameters patched; null = no patching.</summary>
    public ChipDefinition? Chip { get; init; }
    /// <summary>Flash mode for the bootloader header (null/"keep" = unchanged).</summary>
    public string? FlashMode { get; init; }
    /// <summary>Flash frequency for the bootloader header (null/"keep" = unchanged).</summary>
    public string? FlashFrequency { get; init; }
    /// <summary>Flash size for the bootloader header (null/"keep" = unchanged).</summary>
    public string? FlashSize { get; init; }
    /// <summary>Largest raw output accepted (default 128 MiB, the largest flash an image header can name).</summary>
    public long MaxOutputSize { get; init; } = 128L * 1024 * 1024;
}

/// <summary>esptool's merge_bin: several (address, bytes) parts into one raw image or one Intel HEX file.</summary>
public static class MergeBin
{
    /// <summary>
    /// Merges parts into one raw image that starts at <see cref="MergeOptions.TargetOffset"/>; gaps and the optional
    /// pad-to tail are filled with 0xFF. The part at the chip's bootloader offset has its header patched when options
    /// ask for it (the caller's arrays are not modified).
    /// </summary>
    /// <exception cref="EspException">OverlappingRegions (naming both parts), AddressOutOfRange (part before the target offset),
    /// FileTooLarge (output larger than <see cref="MergeOptions.MaxOutputSize"/>), InvalidArgument (empty input or bad flash names).</exception>
    public static byte[] ToRaw(IEnumerable<ImagePart> parts, MergeOptions? options = null)
    {
        options ??= new MergeOptions();
        var sorted = Prepare(parts, options);
        var first = sorted[0];
        if (first.Address < options.TargetOffset)
            throw new EspException(EspErrorCode.AddressOutOfRange,
                $"{first.DisplayName} starts at 0x{first.Address:X}, before the output's target offset 0x{options.TargetOffset:X}.",
                "Lower the target offset or move the part.");
        ulong end = sorted[^1].End;
        if (options.PadToSize is { } pad && pad > end) end = pad;
        ulong length = end - options.TargetOffset;
        if (length > (ulong)options.MaxOutputSize)
            throw new EspException(EspErrorCode.FileTooLarge,
                $"The merged image would span 0x{options.TargetOffset:X}–0x{end:X} ({length} bytes), more than the limit of {options.MaxOutputSize} bytes.",
                "Check the part addresses (a typo such as 0x1000000 instead of 0x100000 makes a huge file), or use Intel HEX output, which keeps gaps as gaps.");
        var output = new byte[length];
        output.AsSpan().Fill(0xFF);
        foreach (var p in sorted)
            p.Data.CopyTo(output, (long)(p.Address - options.TargetOffset));
        return output;
    }

    /// <summary>Merges parts into Intel HEX text; gaps stay gaps. The bootloader header is patched as for <see cref="ToRaw"/>.</summary>
    /// <exception cref="EspException">OverlappingRegions (naming both parts), InvalidArgument (empty input or bad flash names).</exception>
    public static string ToIntelHex(IEnumerable<ImagePart> parts, MergeOptions? options = null, string newLine = "\n")
    {
        options ??= new MergeOptions();
        return IntelHex.Write(Prepare(parts, options), null, newLine);
    }

    private static List<ImagePart> Prepare(IEnumerable<ImagePart> parts, MergeOptions options)
    {
        var sorted = CheckedSort(parts);
        if (sorted.Count == 0)
            throw new EspException(EspErrorCode.InvalidArgument, "There is nothing to merge.", "Give at least one address and file.");
        if (options.Chip is { } chip)
        {
            for (int i = 0; i < sorted.Count; i++)
            {
                if (sorted[i].Address != chip.BootloaderOffset) continue;
                var copy = (byte[])sorted[i].Data.Clone();
                if (EspImage.PatchFlashParameters(copy, chip, options.FlashMode, options.FlashFrequency, options.FlashSize))
                    sorted[i] = sorted[i] with { Data = copy };
            }
        }
        return sorted;
    }

    /// <summary>Sorts parts by address and rejects overlaps and parts that run past 4 GiB.</summary>
    internal static List<ImagePart> CheckedSort(IEnumerable<ImagePart> parts)
    {
        var sorted = parts.Select(p => p ?? throw new ArgumentNullException(nameof(parts))).OrderBy(p => p.Address).ToList();
        ImagePart? previous = null;
        foreach (var part in sorted)
        {
            if (part.End > 0x1_0000_0000UL)
                throw new EspException(EspErrorCode.FileTooLarge,
                    $"{part.DisplayName} ({part.Data.Length} bytes at 0x{part.Address:X}) runs past the 32-bit address space.",
                    "Use a lower address or a smaller file.");
            if (part.Data.Length == 0) continue;
            if (previous is not null && part.Address < previous.End)
                throw new EspException(EspErrorCode.OverlappingRegions,
                    $"{previous.DisplayName} (0x{previous.Address:X}–0x{previous.End - 1:X}) overlaps " +
                    $"{part.DisplayName} (0x{part.Address:X}–0x{part.End - 1:X}).");
            if (previous is null || part.End > previous.End) previous = part;
        }
        return sorted;
    }
}
