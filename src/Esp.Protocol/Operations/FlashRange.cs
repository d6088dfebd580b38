using Esp.Protocol.Errors;
using Esp.Protocol.Loader;

namespace Esp.Protocol.Operations;

/// <summary>Checks of flash addresses shared by the flash operations.</summary>
public static class FlashRange
{
    public static void Check(EspSession session, uint address, uint length)
    {
        ulong end = (ulong)address + length;
        if (session.FlashSize is { } size && end > (ulong)size)
            throw new EspException(EspErrorCode.AddressOutOfRange,
                $"0x{address:X8}..0x{end:X8} ({length} bytes) runs past the end of the {FlashIdentity.FormatSize(size)} flash.",
                "Use a lower address or a smaller file.");
        if (end > 0x1_0000_0000UL)
            throw new EspException(EspErrorCode.AddressOutOfRange, $"0x{address:X8} + {length} bytes overflows the 32-bit address space.");
    }
}
