using System.Security.Cryptography;
using Esp.Protocol.Chips;
using Esp.Protocol.Errors;

namespace Esp.Protocol.Images;

public sealed partial class EspImage
{
    /// <summary>Flash mode names as esptool spells them, to header values.</summary>
    public static IReadOnlyDictionary<string, FlashMode> FlashModes { get; } =
        new Dictionary<string, FlashMode>(StringComparer.OrdinalIgnoreCase)
        {
            ["qio"] = FlashMode.Qio, ["qout"] = FlashMode.Qout, ["dio"] = FlashMode.Dio, ["dout"] = FlashMode.Dout,
        };

    /// <summary>True when <paramref name="value"/> is null or "keep" (leave the field as it is).</summary>
    public static bool IsKeep(string? value) => value is null || value.Equals("keep", StringComparison.OrdinalIgnoreCase);

    /// <summary>Parses a flash mode name (qio, qout, dio, dout).</summary>
    /// <exception cref="EspException">InvalidArgument for other names.</exception>
    public static FlashMode ParseFlashMode(string mode) =>
        FlashModes.TryGetValue(mode, out var m)
            ? m
            : throw new EspException(EspErrorCode.InvalidArgument, $"Unknown flash mode '{mode}'.",
                "Use one of: qio, qout, dio, dout, keep.");

    /// <summary>Parses a flash frequency name (e.g. 40m) with the chip's table into the header's low nibble.</summary>
    /// <exception cref="EspException">InvalidArgument for names the chip does not have.</exception>
    public static byte ParseFlashFrequency(ChipDefinition chip, string freq)
    {
        ArgumentNullException.ThrowIfNull(chip);
        foreach (var kv in chip.FlashFrequencies)
            if (kv.Key.Equals(freq, StringComparison.OrdinalIgnoreCase)) return kv.Value;
        throw new EspException(EspErrorCode.InvalidArgument, $"Flash frequency '{freq}' is not valid for {chip.Name}.",
            $"Use one of: {string.Join(", ", chip.FlashFrequencies.Keys)}, keep.");
    }

    /// <summary>Parses a flash size name (e.g. 4MB) with the chip's table into the header's high-nibble code.</summary>
    /// <exception cref="EspException">InvalidArgument for names the chip does not have (resolve "detect" first).</exception>
    public static byte ParseFlashSize(ChipDefinition chip, string size)
    {
        ArgumentNullException.ThrowIfNull(chip);
        foreach (var kv in chip.FlashSizes)
            if (kv.Key.Equals(size, StringComparison.OrdinalIgnoreCase)) return kv.Value;
        throw new EspException(EspErrorCode.InvalidArgument, $"Flash size '{size}' is not valid for {chip.Name}.",
            size.Equals("detect", StringComparison.OrdinalIgnoreCase)
                ? "Resolve 'detect' to the detected size (e.g. 4MB) before patching the image."
                : $"Use one of: {string.Join(", ", chip.FlashSizes.Keys)}, keep.");
    }

    /// <summary>
    /// Rewrites the flash mode, frequency and size bytes (2–3) of an image in place, as esptool's write_flash and
    /// merge_bin do for the image at the chip's bootloader offset. Null or "keep" leaves a field unchanged. When the
    /// ESP32-style extended header says a SHA-256 is appended, the hash is recomputed.
    /// Data that does not start with 0xE9 or does not parse as an image for <paramref name="chip"/> is left alone
    /// (esptool only warns then); the span may extend past the image (e.g. a merged binary).
    /// </summary>
    /// <returns>True when any byte changed.</returns>
    /// <exception cref="EspException">InvalidArgument when a mode, frequency or size name is not valid for the chip.</exception>
    public static bool PatchFlashParameters(Span<byte> image, ChipDefinition chip, string? mode, string? freq, string? size)
    {
        ArgumentNullException.ThrowIfNull(chip);
        // Parse the arguments first so that a typo is reported even when the data is not an image.
        FlashMode? newMode = IsKeep(mode) ? null : ParseFlashMode(mode!);
        byte? newFreq = IsKeep(freq) ? null : ParseFlashFrequency(chip, freq!);
        byte? newSize = IsKeep(size) ? null : ParseFlashSize(chip, size!);
        if (newMode is null && newFreq is null && newSize is null) return false;
        if (image.Length < HeaderLength || image[0] != Magic) return false;
        if (!TryParse(image, chip, out var parsed) || parsed is null) return false;

        byte b2 = newMode is { } m ? (byte)m : image[2];
        byte b3 = (byte)(((newSize ?? image[3]) & 0xF0) | ((newFreq ?? image[3]) & 0x0F));
        if (b2 == image[2] && b3 == image[3]) return false;
        image[2] = b2;
        image[3] = b3;

        if (parsed.Format == ImageFormat.Esp32 && parsed.HashAppended)
            SHA256.HashData(image[..parsed.DataLength], image.Slice(parsed.DataLength, 32));
        return true;
    }
}
