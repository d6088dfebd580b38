using Esp.Protocol.Errors;
using Esp.Protocol.Loader;

namespace Esp.Protocol.Operations;

/// <summary>Reads flash: stub READ_FLASH streaming (with acknowledgements and an MD5 at the end), or ROM READ_FLASH_SLOW.</summary>
public static class FlashReader
{
    /// <summary>ROM READ_FLASH_SLOW answers 64 bytes per request.</summary>
    public const int RomReadChunk = 64;

    public static bool IsAvailable(EspSession session) => session.Loader.CanReadFlash;

    public static async Task<byte[]> ReadAsync(EspSession session, uint address, int length,
        IProgress<EspProgress>? progress = null, CancellationToken ct = default)
    {
        if (length < 0) throw new EspException(EspErrorCode.InvalidArgument, "The length to read must not be negative.");
        if (!IsAvailable(session))
            throw new EspException(EspErrorCode.UnsupportedCommand,
                $"The {session.Chip.Name} {session.Loader.Name} cannot read flash.", "Run with the flasher stub (leave out --no-stub / EspNoStub).");
        await session.EnsureFlashAttachedAsync(ct).ConfigureAwait(false);
        FlashRange.Check(session, address, (uint)length);
        if (length == 0) return [];
        return await session.Loader.ReadFlashAsync(session, address, length, progress, ct).ConfigureAwait(false);
    }
}
