using Esp.Protocol.Commands;
using Esp.Protocol.Errors;
using Esp.Protocol.Loader;

namespace Esp.Protocol.Operations;

/// <summary>
/// Leaves the loader and runs the application in flash, the way esptool's <c>run</c> does: an empty FLASH_BEGIN,
/// then FLASH_END asking to run user code. The ROM loader jumps into the flash boot; a flasher stub answers and stays
/// (the application then starts with the hard reset after the command).
/// </summary>
public static class AppRunner
{
    /// <returns>True when the loader left (the ROM); false when a flasher stub answered and kept running.</returns>
    public static async Task<bool> RunAsync(EspSession session, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(session);
        var loader = session.Loader;
        await session.EnsureFlashAttachedAsync(ct).ConfigureAwait(false);
        await session.ExecuteAsync(loader.FlashBegin(0, 0, 0, (uint)loader.FlashBlockSize), ct).ConfigureAwait(false);
        var runUserCode = new Command(Opcode.FlashEnd, Request.Words(1), ReplyTimeout.Command);
        try
        {
            await session.ExecuteAsync(runUserCode, ct).ConfigureAwait(false);
        }
        catch (EspException ex) when (loader.Kind == LoaderKind.RomLoader && ex.Code == EspErrorCode.Timeout)
        {
            // The ROM may start the application before its reply is out; what it prints then is no reply.
        }
        if (loader.Kind != LoaderKind.RomLoader) return false;
        session.MarkLoaderLeft();
        return true;
    }
}
