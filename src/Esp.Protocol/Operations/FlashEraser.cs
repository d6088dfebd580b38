using Esp.Protocol.Commands;
using Esp.Protocol.Errors;
using Esp.Protocol.Loader;

namespace Esp.Protocol.Operations;

/// <summary>erase_flash and erase_region.</summary>
public static class FlashEraser
{
    public static async Task EraseAllAsync(EspSession session, IProgress<EspProgress>? progress = null, CancellationToken ct = default)
    {
        if (!session.Loader.CanEraseChip)
            throw new EspException(EspErrorCode.UnsupportedCommand, "Erasing the whole flash needs the flasher stub.",
                "Run with the flasher stub (leave out --no-stub / EspNoStub), or erase a region with erase_region.");
        await session.EnsureFlashAttachedAsync(ct).ConfigureAwait(false);
        progress?.Report(new EspProgress("erase", 0, 1));
        await session.ExecuteAsync(LoaderCommands.EraseFlash(), ct).ConfigureAwait(false);
        progress?.Report(new EspProgress("erase", 1, 1));
    }

    public static async Task EraseRegionAsync(EspSession session, uint address, uint length, IProgress<EspProgress>? progress = null, CancellationToken ct = default)
    {
        const uint sector = ProtocolConstants.FlashSectorSize;
        if (address % sector != 0)
            throw new EspException(EspErrorCode.UnalignedAddress, $"The erase address 0x{address:X8} is not a multiple of 4096 (0x1000).",
                $"Use 0x{address / sector * sector:X8} or 0x{(address / sector + 1) * sector:X8}.");
        if (length == 0 || length % sector != 0)
            throw new EspException(EspErrorCode.UnalignedAddress, $"The erase length {length} (0x{length:X}) is not a positive multiple of 4096 (0x1000).",
                $"Use 0x{Math.Max(1, (length + sector - 1) / sector) * sector:X}.");
        await session.EnsureFlashAttachedAsync(ct).ConfigureAwait(false);
        FlashRange.Check(session, address, length);
        progress?.Report(new EspProgress("erase", 0, length));
        await session.Loader.EraseRegionAsync(session, address, length, ct).ConfigureAwait(false);
        progress?.Report(new EspProgress("erase", length, length));
    }
}
