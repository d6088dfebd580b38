using Esp.Protocol.Images;
using Esp.Protocol.Loader;
using Esp.Protocol.Operations;

namespace Esp.Cli.Commands;

/// <summary>Applies --flash-mode/--flash-freq/--flash-size to a bootloader image written at the chip's bootloader address.</summary>
internal static class ImagePatcher
{
    public static byte[] Patch(EspSession session, uint address, byte[] data, HeaderPatch patch, Output output)
    {
        if (address != session.Chip.BootloaderOffset) return data;
        var size = patch.Size;
        if (string.Equals(size, "detect", StringComparison.OrdinalIgnoreCase))
        {
            if (session.FlashSize is { } fs) size = FlashIdentity.FormatSize(fs);
            else
            {
                output.Warning("the flash size could not be detected; keeping the image's flash size.");
                size = "keep";
            }
        }
        var copy = (byte[])data.Clone();
        if (EspImage.PatchFlashParameters(copy, session.Chip, patch.Mode, patch.Freq, size))
        {
            output.Line($"Flash parameters set to {patch.Mode ?? "keep"}/{patch.Freq ?? "keep"}/{size ?? "keep"} in the image at 0x{address:x8}.");
            return copy;
        }
        return data;
    }
}
