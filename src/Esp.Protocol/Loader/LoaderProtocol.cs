using Esp.Protocol.Chips;
using Esp.Protocol.Commands;
using Esp.Protocol.Errors;

namespace Esp.Protocol.Loader;

/// <summary>Which program answers on the chip.</summary>
public enum LoaderKind
{
    /// <summary>The mask ROM's serial loader.</summary>
    RomLoader,
    /// <summary>A flasher stub uploaded to RAM.</summary>
    FlasherStub,
}

/// <summary>
/// What differs between the chip's ROM loader and a flasher stub: reply format and error codes, block sizes,
/// begin-word layouts and erase rules, which commands exist, what may be sent ahead of replies, and how a session
/// ends. Operations ask the session's protocol instead of testing which one runs; <see cref="RomLoader"/> and
/// <see cref="StubLoader"/> are the two.
/// </summary>
public abstract class LoaderProtocol
{
    public abstract LoaderKind Kind { get; }

    /// <summary>"ROM loader" or "flasher stub", for messages.</summary>
    public abstract string Name { get; }

    /// <summary>Status bytes at the end of each reply.</summary>
    public abstract int StatusBytes { get; }

    /// <summary>Requests of each kind the loader takes before their replies (docs/fidelity.md).</summary>
    public abstract LoaderWindows Windows { get; }

    /// <summary>Largest FLASH_DATA / FLASH_DEFL_DATA payload.</summary>
    public abstract int FlashBlockSize { get; }

    /// <summary>Largest MEM_DATA payload.</summary>
    public abstract int RamBlockSize { get; }

    /// <summary>Whether SPI_FLASH_MD5 exists (every stub; ROMs by chip).</summary>
    public abstract bool CanHashFlash { get; }

    /// <summary>Whether flash can be read back (stub READ_FLASH; ROM READ_FLASH_SLOW by chip).</summary>
    public abstract bool CanReadFlash { get; }

    /// <summary>Whether compressed writes are taken (and land only where they should).</summary>
    public abstract bool CanInflate { get; }

    /// <summary>Whether the whole flash can be erased in one command.</summary>
    public abstract bool CanEraseChip { get; }

    /// <summary>Whether a write may start inside a sector (the ROM erases from a sector boundary).</summary>
    public abstract bool WritesFromAnyAddress { get; }

    /// <summary>Whether FLASH_BEGIN erases the whole range before any data (progress shows "erasing" then).</summary>
    public abstract bool ErasesAtBegin { get; }

    /// <summary>
    /// Whether a compressed block may be sent again after its reply timed out. A ROM inflates blocks in order and
    /// writes wherever its output has got to, so a block it had taken would be written a second time, past the range.
    /// </summary>
    public abstract bool RetriesTimedOutCompressedBlocks { get; }

    /// <summary>FLASH_BEGIN for <paramref name="size"/> bytes at <paramref name="offset"/> in <paramref name="blocks"/> blocks.</summary>
    public abstract Command FlashBegin(uint offset, uint size, uint blocks, uint blockSize);

    /// <summary>FLASH_DEFL_BEGIN for <paramref name="size"/> uncompressed bytes sent as <paramref name="blocks"/> blocks.</summary>
    public abstract Command FlashDeflBegin(uint offset, uint size, uint blocks, uint blockSize);

    /// <summary>The command that completes a write and waits for its last block, or null when the loader needs none.</summary>
    public abstract Command? FinishWrite(bool compressed);

    /// <summary>SPI_FLASH_MD5 of a range, and how its digest is read from the reply.</summary>
    public abstract Command FlashMd5(uint address, uint length);

    /// <summary>The digest of a SPI_FLASH_MD5 reply, as lowercase hex.</summary>
    public abstract string Md5Hex(CommandReply reply);

    /// <summary>Makes the SPI flash usable before flash commands (ROM: SPI_ATTACH).</summary>
    public abstract Task AttachFlashAsync(EspSession session, CancellationToken ct);

    /// <summary>Whether SPI_SET_PARAMS exists.</summary>
    public abstract bool SetsFlashParameters { get; }

    /// <summary>Erases whole sectors.</summary>
    public abstract Task EraseRegionAsync(EspSession session, uint address, uint length, CancellationToken ct);

    /// <summary>Reads flash (range checks done by the caller).</summary>
    public abstract Task<byte[]> ReadFlashAsync(EspSession session, uint address, int length, IProgress<EspProgress>? progress, CancellationToken ct);

    /// <summary>CHANGE_BAUDRATE's two words for a switch from <paramref name="oldBaud"/> to <paramref name="baud"/>; null: the loader cannot.</summary>
    public abstract Task<Command?> ChangeBaudrateAsync(EspSession session, int baud, int oldBaud, CancellationToken ct);

    /// <summary>MEM_END: start <paramref name="entry"/> (0: stay in the loader).</summary>
    public abstract Task MemEndAsync(EspSession session, uint entry, CancellationToken ct);

    /// <summary>The --after action once the work is done (ESP32-family: soft reset and leaving a stub run through FLASH_END).</summary>
    public abstract Task LeaveAsync(EspSession session, string after, CancellationToken ct);

    /// <summary>The error a failed reply stands for (status and reason bytes from the reply).</summary>
    public abstract EspException Failure(Opcode op, byte status, byte error);

    /// <summary>
    /// The error a reply under another opcode with status 01 05 stands for: the ROM's "unknown command" (it answers under
    /// the previous command's opcode); under a stub, the ROM talking means the chip has reset.
    /// </summary>
    public abstract EspException ForeignRefusal(Opcode op);

    private protected static EspCommandException Unsupported(Opcode op, byte status = 1, byte error = 5) =>
        new(EspErrorCode.UnsupportedCommand, (byte)op, status, error,
            $"The chip's loader does not support {op} (or refuses it in Secure Download Mode).");

    /// <summary>The data-carrying commands (MEM_DATA, FLASH_DATA, FLASH_DEFL_DATA).</summary>
    public static bool IsDataBlock(Opcode op) => op is Opcode.MemData or Opcode.FlashData or Opcode.FlashDeflData;
}
