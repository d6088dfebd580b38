using Esp.Protocol.Chips;
using Esp.Protocol.Commands;
using Esp.Protocol.Errors;
using Esp.Protocol.Operations;

namespace Esp.Protocol.Loader;

/// <summary>The chip's mask-ROM serial loader: what it takes and how it answers, per chip record.</summary>
public sealed class RomLoader(ChipDefinition chip, bool usbOtg = false) : LoaderProtocol
{
    private const int BlockSize = ProtocolConstants.RomFlashBlockSize;

    public ChipDefinition Chip { get; } = chip;
    public override LoaderKind Kind => LoaderKind.RomLoader;
    public override string Name => "ROM loader";
    public override int StatusBytes => Chip.RomStatusBytes;
    public override LoaderWindows Windows => Chip.RomWindows;
    public override int FlashBlockSize => BlockSize;
    /// <summary>Through the chip's own USB-OTG port the ROM takes 2 KiB RAM blocks.</summary>
    public override int RamBlockSize => usbOtg ? ProtocolConstants.UsbOtgBlockSize : ProtocolConstants.RamBlockSize;
    public override bool CanHashFlash => Has(RomFeatures.Md5);
    public override bool CanReadFlash => Has(RomFeatures.ReadFlashSlow);
    public override bool CanInflate => Has(RomFeatures.Compressed) && !Chip.RomInflateOverruns;
    public override bool CanEraseChip => false;
    public override bool WritesFromAnyAddress => false;
    public override bool ErasesAtBegin => true;
    public override bool RetriesTimedOutCompressedBlocks => false;
    public override bool SetsFlashParameters => Has(RomFeatures.SpiSetParams);

    private bool Has(RomFeatures f) => (Chip.RomFeatures & f) != 0;

    /// <summary>Later ROMs take FLASH_BEGIN's fifth word (encrypted = 0); the ESP8266 and ESP32 ROMs take four.</summary>
    private byte[] BeginWords(uint size, uint blocks, uint blockSize, uint offset) =>
        Has(RomFeatures.EncryptedFlag) ? Request.Words(size, blocks, blockSize, offset, 0) : Request.Words(size, blocks, blockSize, offset);

    public override Command FlashBegin(uint offset, uint size, uint blocks, uint blockSize)
    {
        uint erase = Chip.IsEsp8266 ? FlashWriter.Esp8266EraseSize(offset, size) : size;
        return new Command(Opcode.FlashBegin, BeginWords(erase, blocks, blockSize, offset), ReplyTimeout.EraseWriteOf(size));
    }

    /// <summary>The ROM erases whole kilobytes for a compressed write: the size rounds up to 1 KiB.</summary>
    public override Command FlashDeflBegin(uint offset, uint size, uint blocks, uint blockSize) =>
        new(Opcode.FlashDeflBegin, BeginWords((size + 0x3FF) / 0x400 * 0x400, blocks, blockSize, offset), ReplyTimeout.EraseWriteOf(size));

    /// <summary>The ROM writes each block before it answers; esptool sends no FLASH_END to it.</summary>
    public override Command? FinishWrite(bool compressed) => null;

    public override Command FlashMd5(uint address, uint length) =>
        new(Opcode.SpiFlashMd5, Request.Words(address, length, 0, 0), ReplyTimeout.Md5Of(length), ReplyDataLength: 32, Repeatable: true);

    /// <summary>The ROM answers with 32 hexadecimal characters.</summary>
    public override string Md5Hex(CommandReply reply) => System.Text.Encoding.ASCII.GetString(reply.Data).ToLowerInvariant();

    /// <summary>SPI_ATTACH (8 bytes); the ESP8266 ROM has none and attaches on an empty FLASH_BEGIN.</summary>
    public override Task AttachFlashAsync(EspSession session, CancellationToken ct) => Chip.IsEsp8266
        ? session.ExecuteAsync(new Command(Opcode.FlashBegin, Request.Words(0, 0, BlockSize, 0), ReplyTimeout.Command), ct)
        : session.ExecuteAsync(new Command(Opcode.SpiAttach, Request.Words(0, 0), ReplyTimeout.Command), ct);

    /// <summary>The ROM erases at FLASH_BEGIN; no data follows.</summary>
    public override Task EraseRegionAsync(EspSession session, uint address, uint length, CancellationToken ct) =>
        session.ExecuteAsync(FlashBegin(address, length, (length + BlockSize - 1) / BlockSize, BlockSize), ct);

    /// <summary>READ_FLASH_SLOW, 64 bytes per request, windows as the chip record allows.</summary>
    public override async Task<byte[]> ReadFlashAsync(EspSession session, uint address, int length, IProgress<EspProgress>? progress, CancellationToken ct)
    {
        const int chunk = FlashReader.RomReadChunk;
        var data = new byte[length];
        int chunks = (length + chunk - 1) / chunk;
        await RequestPipeline.RunAsync(session, chunks,
            i => LoaderCommands.ReadFlashSlow(address + (uint)(i * chunk), (uint)Math.Min(chunk, length - i * chunk)),
            session.Windows.ReadFlashSlow,
            (i, reply) =>
            {
                int offset = i * chunk;
                int take = Math.Min(chunk, length - offset);
                reply.Data.AsSpan(0, take).CopyTo(data.AsSpan(offset));
                progress?.Report(new EspProgress("read", offset + take, length));
            }, ct).ConfigureAwait(false);
        return data;
    }

    /// <summary>The ROM's second word is 0; some chips need the rate scaled to their actual UART clock.</summary>
    public override async Task<Command?> ChangeBaudrateAsync(EspSession session, int baud, int oldBaud, CancellationToken ct)
    {
        if (!Has(RomFeatures.ChangeBaudrate)) return null;
        uint word = await Chip.RomBaudWordAsync(baud, a => session.ReadRegAsync(a, ct), ct).ConfigureAwait(false);
        return LoaderCommands.ChangeBaudrate(word, 0);
    }

    /// <summary>The ROM may never answer MEM_END: the code it starts can take the UART over.</summary>
    public override async Task MemEndAsync(EspSession session, uint entry, CancellationToken ct)
    {
        try
        {
            await session.ExecuteAsync(LoaderCommands.MemEnd(entry, ReplyTimeout.MemEndRom), ct).ConfigureAwait(false);
        }
        catch (EspException ex) when (ex.Code is EspErrorCode.Timeout or EspErrorCode.RomError)
        {
        }
    }

    /// <summary>Soft reset: an empty FLASH_BEGIN, then FLASH_END asking to run the application (not answered).</summary>
    public override async Task LeaveAsync(EspSession session, string after, CancellationToken ct)
    {
        if (after != "soft-reset") return;
        await session.ExecuteAsync(new Command(Opcode.FlashBegin, Request.Words(0, 0, BlockSize, 0), ReplyTimeout.Command), ct).ConfigureAwait(false);
        await session.SendAsync(new Command(Opcode.FlashEnd, Request.Words(1), ReplyTimeout.Command), ct).ConfigureAwait(false);
    }

    public override EspException Failure(Opcode op, byte status, byte error)
    {
        if (status != 1) return StubLoader.StubFailure(op, status, error);
        if (error == 0x05 && IsDataBlock(op))
        {
            // *_DATA is supported by every ROM once *_BEGIN was accepted: 01 05 under its own opcode means the ROM
            // found the packet invalid (length or header damaged on the way), which a resend can fix.
            return new EspCommandException(EspErrorCode.RomError, (byte)op, status, error,
                $"The ROM loader rejected a damaged {op} packet (status 0x{status:X2}{error:X2}: the message was invalid).",
                "The link corrupts data; check the cable and lower the baud rate.");
        }
        if (error == 0x05) return Unsupported(op, status, error);
        return new EspCommandException(EspErrorCode.RomError, (byte)op, status, error,
            $"The ROM loader refused {op}: {StatusCodes.DescribeRom(error)} (status 0x{status:X2}{error:X2}).",
            error == 0x08 ? "The write did not read back; check the flash's block-protect bits (read_flash_status) and the power supply." : null);
    }

    public override EspException ForeignRefusal(Opcode op) => Unsupported(op);
}
