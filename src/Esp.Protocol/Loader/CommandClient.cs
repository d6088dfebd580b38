using Esp.Protocol.Commands;
using Esp.Protocol.Errors;

namespace Esp.Protocol.Loader;

/// <summary>The outcome of one command: the reply's value word and its data without the status bytes.</summary>
public readonly record struct CommandReply(uint Value, byte[] Data);

/// <summary>
/// Sends requests and matches replies the way esptool does: skip frames that are not responses or answer another
/// opcode; a foreign-opcode frame with status [≠0, 0x05] is the loader refusing the command. How replies end and what
/// their status bytes mean comes from the loader that runs (<see cref="LoaderProtocol"/>).
/// </summary>
internal sealed class CommandClient(SlipLink link, EspTimeouts timeouts, LoaderProtocol loader)
{
    private const int MaxFramesPerCommand = 100;

    public SlipLink Link { get; } = link;
    public EspTimeouts Timeouts { get; } = timeouts;

    /// <summary>The loader answering now (the ROM's, until a stub runs).</summary>
    public LoaderProtocol Loader { get; set; } = loader;

    private bool _lateReplyPossible;
    private TimeSpan _lateBy;

    /// <summary>
    /// Sends a command and waits for its reply. A command whose reply did not come in time may still be answered
    /// later, so before the next command a barrier is run (<see cref="BarrierAsync"/>); a <see cref="Command.Repeatable"/>
    /// command is then sent once more.
    /// </summary>
    public async Task<CommandReply> ExecuteAsync(Command command, CancellationToken cancellationToken)
    {
        for (int attempt = 1; ; attempt++)
        {
            if (_lateReplyPossible) await BarrierAsync(command.Op, cancellationToken).ConfigureAwait(false);
            await Link.SendAsync(command.ToPacket(), cancellationToken).ConfigureAwait(false);
            try
            {
                return await ReadReplyAsync(command, cancellationToken).ConfigureAwait(false);
            }
            catch (EspException ex) when (ex.Code == EspErrorCode.Timeout)
            {
                ExpectLateReplies(command.Timeout.Resolve(Timeouts));
                if (!command.Repeatable || attempt >= 2) throw;
            }
        }
    }

    /// <summary>
    /// Says that replies to requests already sent may still arrive, the chip having been busy for up to
    /// <paramref name="busyFor"/> more (a window was given up, a command timed out).
    /// </summary>
    public void ExpectLateReplies(TimeSpan? busyFor = null)
    {
        _lateReplyPossible = true;
        var t = busyFor ?? Timeouts.Command;
        if (t > _lateBy) _lateBy = t;
    }

    /// <summary>
    /// A reply carries no request number, so a late one would be taken as the answer to the next command of the same
    /// opcode (a READ_REG's value is just a number). The loader answers in order: a command of another opcode is sent
    /// and everything that arrives before its reply is dropped; the replies it leaves behind (SYNC has eight) are of
    /// an opcode later commands skip.
    /// </summary>
    private async Task BarrierAsync(Opcode next, CancellationToken cancellationToken)
    {
        _lateReplyPossible = false;
        var barrier = next == Opcode.Sync ? LoaderCommands.ReadReg(ProtocolConstants.ChipDetectMagicRegister) : LoaderCommands.Sync();
        // The chip answers the barrier once it has finished what it was still doing: allow for that as well.
        var timeout = Timeouts.Command + _lateBy;
        _lateBy = TimeSpan.Zero;
        await Link.SendAsync(barrier.ToPacket(), cancellationToken).ConfigureAwait(false);
        try
        {
            await ReadReplyAsync(barrier.Op, timeout, barrier.ReplyDataLength, cancellationToken).ConfigureAwait(false);
        }
        catch (EspException ex) when (ex.Code == EspErrorCode.Timeout)
        {
            _lateReplyPossible = true;
            throw;
        }
        catch (EspCommandException ex) when (barrier.Op == Opcode.Sync)
        {
            // Every loader answers SYNC: a refusal means the frame was damaged on the way, not an unknown command.
            _lateReplyPossible = true;
            throw new EspException(EspErrorCode.ProtocolViolation,
                $"The chip refused the SYNC sent to get back in step before {next} (status 0x{ex.Status:X2}{ex.Error:X2}): the frame was damaged on the way.",
                "The link corrupts data; check the cable and lower the baud rate.", ex);
        }
    }

    /// <summary>Waits for the reply to <paramref name="command"/> (used after pipelined sends too).</summary>
    public Task<CommandReply> ReadReplyAsync(Command command, CancellationToken cancellationToken) =>
        ReadReplyAsync(command.Op, command.Timeout.Resolve(Timeouts), command.ReplyDataLength, cancellationToken);

    /// <summary>Waits for the reply to <paramref name="op"/>.</summary>
    public async Task<CommandReply> ReadReplyAsync(Opcode op, TimeSpan timeout, int expectedDataLength, CancellationToken cancellationToken)
    {
        for (int i = 0; i < MaxFramesPerCommand; i++)
        {
            var frame = await Link.ReadFrameAsync(timeout, cancellationToken).ConfigureAwait(false);
            if (!Response.TryParse(frame, out var r)) continue;
            var data = r.Data;
            if (r.Opcode != op)
            {
                // The ROM answers an unknown command with status 01 05 under another opcode (ESP32: the previous
                // command's). That is how esptool learns a command is unsupported.
                if (data.Length >= 2 && data[0] != 0 && data[1] == 0x05) throw Loader.ForeignRefusal(op);
                continue;
            }
            return Check(op, r.Value, data, expectedDataLength);
        }
        throw new EspException(EspErrorCode.ProtocolViolation,
            $"No reply to {op} among {MaxFramesPerCommand} frames from the chip.");
    }

    /// <summary>
    /// For GET_SECURITY_INFO: the data is 20 bytes (S3 and later) or 12 (S2), followed by 4 (ROM) or 2 (stub)
    /// status bytes; the four possible lengths are distinct, so the split follows from the frame length.
    /// </summary>
    public const int SecurityInfoLength = -1;

    /// <summary>The ROM loader's SPI_FLASH_MD5 answer: the digest as 32 hex digits.</summary>
    private const int RomMd5Length = 32;

    private CommandReply Check(Opcode op, uint value, ReadOnlySpan<byte> data, int expectedDataLength)
    {
        int statusAt = expectedDataLength == SecurityInfoLength
            ? (data.Length >= 22 ? 20 : data.Length >= 14 ? 12 : 0)
            : expectedDataLength;
        if (op == Opcode.SpiFlashMd5 && Loader.Kind == LoaderKind.FlasherStub && data.Length >= RomMd5Length + 2 && statusAt < RomMd5Length)
        {
            // The stub sends the MD5 as 16 bytes, the ROM as 32 hex digits: the chip has reset since the stub started.
            // Read as the stub's reply, two of the digits would pass for a status ("flash write protected").
            throw Loader.ForeignRefusal(op);
        }
        if (data.Length < statusAt + 2)
        {
            // A short reply: esptool reads the first two bytes as the status (a failure leaves out the data).
            if (data.Length >= 2 && data[0] != 0) throw Loader.Failure(op, data[0], data[1]);
            throw new EspException(EspErrorCode.ProtocolViolation,
                $"The reply to {op} has {data.Length} bytes; expected {expectedDataLength} bytes and a status.");
        }
        byte status = data[statusAt], error = data[statusAt + 1];
        if (status != 0) throw Loader.Failure(op, status, error);
        return new CommandReply(value, data[..statusAt].ToArray());
    }
}
