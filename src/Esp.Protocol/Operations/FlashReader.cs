using System.Security.Cryptography;
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

    /// <summary>
    /// As <see cref="ReadAsync"/>, for bytes that will be written back (those before an unaligned start, which erasing
    /// the sector would lose): the ROM's READ_FLASH_SLOW data carries no checksum, so the chip's MD5 of the range must
    /// match what arrived (the stub's read ends with its own MD5). A mismatch is ESP2009: the link damaged the data.
    /// </summary>
    public static async Task<byte[]> ReadCheckedAsync(EspSession session, uint address, int length, CancellationToken ct = default)
    {
        var data = await ReadAsync(session, address, length, null, ct).ConfigureAwait(false);
        if (length > 0 && session.Loader.Kind == LoaderKind.RomLoader && FlashMd5.IsAvailable(session)
            && await FlashMd5.ComputeAsync(session, address, (uint)length, ct).ConfigureAwait(false) != Convert.ToHexStringLower(MD5.HashData(data)))
        {
            throw new EspException(EspErrorCode.ProtocolViolation,
                $"The flash data read from 0x{address:X8} was damaged on the way (its MD5 does not match the chip's).",
                "The link corrupts data; check the cable, lower the baud rate, and try again.");
        }
        return data;
    }
}
