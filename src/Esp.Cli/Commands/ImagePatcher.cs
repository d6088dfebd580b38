using Esp.Protocol.Loader;

namespace Esp.Cli.Commands;

/// <summary>Applies --flash-mode/--flash-freq/--flash-size to a bootloader image written at the chip's bootloader address.</summary>
internal static class ImagePatcher
{
    public static byte[] Patch(EspSession session, uint address, byte[] data, HeaderPatch patch, Output output)
    {
        if (address != session.Chip.BootloaderOffset || data.Length < 24 || data[0] != 0xE9) return data;
        output.Warning("changing the flash parameters of an image is not available in this build; writing the image as it is.");
        return data;
    }
}
