using System.Buffers.Binary;
using System.Security.Cryptography;
using Esp.Protocol.Chips;
using Esp.Protocol.Commands;
using Esp.Protocol.Errors;

namespace Esp.Protocol.Loader;

/// <summary>
/// A flasher stub running in the chip's RAM (esp-flasher-stub, or a legacy stub given as a file): 16 KiB blocks, exact
/// sizes, erase as it writes, streaming reads, and one request at a time (docs/fidelity.md).
/// </summary>
public sealed class StubLoader(ChipDefinition chip, bool usbOtg) : LoaderProtocol
{
    public ChipDefinition Chip { get; } = chip;

    /// <summary>True when the link is the chip's own USB-OTG port, which takes 2 KiB blocks.</summary>
    public bool UsbOtg { get; } = usbOtg;

    public override LoaderKind Kind => LoaderKind.FlasherStub;
    public override string Name => "flasher stub";
    public override int StatusBytes => 2;
    public override LoaderWindows Windows => LoaderWindows.LockStep;
    public override int FlashBlockSize => UsbOtg ? ProtocolConstants.UsbOtgBlockSize : ProtocolConstants.StubFlashBlockSize;
    public override int RamBlockSize => UsbOtg ? ProtocolConstants.UsbOtgBlockSize : ProtocolConstants.RamBlockSize;
    public override bool CanHashFlash => true;
    public override bool CanReadFlash => true;
    public override bool CanInflate => true;
    public override bool CanEraseChip => true;
    public override bool WritesFromAnyAddress => true;
    public override bool ErasesAtBegin => false;
    public override bool RetriesTimedOutCompressedBlocks => true;
    public override bool SetsFlashParameters => true;

    /// <summary>Stubs take the exact size and the fifth (encrypted) word; they erase while writing, so begin is quick.</summary>
    public override Command FlashBegin(uint offset, uint size, uint blocks, uint blockSize) =>
        new(Opcode.FlashBegin, Request.Words(size, blocks, blockSize, offset, 0), ReplyTimeout.Command);

    public override Command FlashDeflBegin(uint offset, uint size, uint blocks, uint blockSize) =>
        new(Opcode.FlashDeflBegin, Request.Words(size, blocks, blockSize, offset, 0), ReplyTimeout.Command);

    /// <summary>FLASH_END / FLASH_DEFL_END (stay in the stub): answered once the last block is written.</summary>
    public override Command? FinishWrite(bool compressed) =>
        new(compressed ? Opcode.FlashDeflEnd : Opcode.FlashEnd, Request.Words(1), ReplyTimeout.EraseWriteOf(2L * FlashBlockSize));

    public override Command FlashMd5(uint address, uint length) =>
        new(Opcode.SpiFlashMd5, Request.Words(address, length, 0, 0), ReplyTimeout.Md5Of(length), ReplyDataLength: 16, Repeatable: true);

    /// <summary>The stub answers with the 16 digest bytes.</summary>
    public override string Md5Hex(CommandReply reply) => Convert.ToHexStringLower(reply.Data);

    /// <summary>The stub attaches the flash when it starts.</summary>
    public override Task AttachFlashAsync(EspSession session, CancellationToken ct) => Task.CompletedTask;

    public override Task EraseRegionAsync(EspSession session, uint address, uint length, CancellationToken ct) =>
        session.ExecuteAsync(LoaderCommands.EraseRegion(address, length), ct);

    /// <summary>
    /// READ_FLASH: the reply, then packets of 4 KiB, each acknowledged with the running total (the stub sends the next
    /// only then), and the MD5 of what was sent.
    /// </summary>
    public override async Task<byte[]> ReadFlashAsync(EspSession session, uint address, int length, IProgress<EspProgress>? progress, CancellationToken ct)
    {
        const int packet = ProtocolConstants.ReadFlashPacketSize;
        await session.ExecuteAsync(LoaderCommands.ReadFlash(address, (uint)length, packet, 64), ct).ConfigureAwait(false);
        var data = new byte[length];
        int received = 0;
        var ack = new byte[4];
        var link = session.Link;
        while (received < length)
        {
            var frame = await link.ReadFrameAsync(session.Timeouts.Command, ct).ConfigureAwait(false);
            int expected = Math.Min(packet, length - received);
            if (frame.Length != expected)
                throw new EspException(EspErrorCode.ProtocolViolation,
                    $"Corrupt flash data: a {frame.Length}-byte packet arrived where {expected} bytes were due at 0x{address + (uint)received:X8}.");
            frame.CopyTo(data, received);
            received += frame.Length;
            BinaryPrimitives.WriteUInt32LittleEndian(ack, (uint)received);
            await link.SendAsync(ack, ct).ConfigureAwait(false);
            progress?.Report(new EspProgress("read", received, length));
        }
        var digest = await link.ReadFrameAsync(session.Timeouts.Command, ct).ConfigureAwait(false);
        if (digest.Length != 16 || !digest.AsSpan().SequenceEqual(MD5.HashData(data)))
            throw new EspException(EspErrorCode.ProtocolViolation,
                $"The flash data read from 0x{address:X8} was damaged on the way (its MD5 does not match the chip's).");
        return data;
    }

    /// <summary>The stub's second word is the rate the link runs at now.</summary>
    public override Task<Command?> ChangeBaudrateAsync(EspSession session, int baud, int oldBaud, CancellationToken ct) =>
        Task.FromResult<Command?>(LoaderCommands.ChangeBaudrate((uint)baud, (uint)oldBaud));

    public override Task MemEndAsync(EspSession session, uint entry, CancellationToken ct) =>
        session.ExecuteAsync(LoaderCommands.MemEnd(entry, ReplyTimeout.Command), ct);

    /// <summary>
    /// Soft reset: the ESP8266 stub runs the application on RUN_USER_CODE; on the others, an empty FLASH_BEGIN and a
    /// FLASH_END asking to reboot. No reset: the same with "stay", esptool's way of leaving a stub.
    /// </summary>
    public override async Task LeaveAsync(EspSession session, string after, CancellationToken ct)
    {
        if (after == "soft-reset" && Chip.IsEsp8266)
        {
            await session.SendAsync(new Command(Opcode.RunUserCode, [], ReplyTimeout.Command), ct).ConfigureAwait(false);
            return;
        }
        if (after is not ("soft-reset" or "no-reset")) return;
        await session.ExecuteAsync(new Command(Opcode.FlashBegin, Request.Words(0, 0, (uint)FlashBlockSize, 0), ReplyTimeout.Command), ct).ConfigureAwait(false);
        await session.SendAsync(new Command(Opcode.FlashEnd, Request.Words(after == "soft-reset" ? 1u : 0u), ReplyTimeout.Command), ct).ConfigureAwait(false);
    }

    public override EspException Failure(Opcode op, byte status, byte error) => StubFailure(op, status, error);

    /// <summary>The stub's first status byte is the error code itself.</summary>
    internal static EspException StubFailure(Opcode op, byte status, byte error)
    {
        if (status is 0xC3 or 0xFF) return Unsupported(op, status, error);
        return new EspCommandException(status is 0xC5 or 0x34 ? EspErrorCode.FlashWriteProtected : EspErrorCode.StubError, (byte)op, status, error,
            $"The flasher stub refused {op}: {StatusCodes.DescribeStub(status)} (status 0x{status:X2}{error:X2}).",
            status is 0xC5 or 0xC4 ? EspErrorHelp.For(EspErrorCode.FlashWriteProtected) : null);
    }

    public override EspException ForeignRefusal(Opcode op) =>
        new(EspErrorCode.StubNotRunning,
            $"The chip answered {op} like its ROM loader, not the flasher stub: it has reset since the stub was started.");
}
