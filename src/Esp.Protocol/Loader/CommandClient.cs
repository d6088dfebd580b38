using Esp.Protocol.Commands;
using Esp.Protocol.Errors;

namespace Esp.Protocol.Loader;

/// <summary>The outcome of one command: the reply's value word and its data without the status bytes.</summary>
public readonly record struct CommandReply(uint Value, byte[] Data);

/// <summary>
/// Sends requests and matches replies the way esptool does (protocol-facts §1.7): skip frames that are not
/// responses or answer another opcode; treat a foreign-opcode frame with status [≠0, 0x05] as "unsupported".
/// </summary>
public sealed class CommandClient
{
    private const int MaxFramesPerCommand = 100;

    public CommandClient(SlipLink link, EspTimeouts timeouts)
    {
        Link = link;
        Timeouts = timeouts;
    }

    public SlipLink Link { get; }
    public EspTimeouts Timeouts { get; }

    /// <summary>Status bytes at the end of each reply: 4 for ESP32-family ROMs, 2 for the ESP8266 ROM and all stubs.</summary>
    public int StatusBytes { get; set; } = 4;

    /// <summary>True once a stub answers; selects the stub error table.</summary>
    public bool IsStub { get; set; }

    /// <summary>Sends a command and waits for its reply.</summary>
    /// <param name="expectedDataLength">Bytes of command data before the status (e.g. 32 for ROM MD5).</param>
    public async Task<CommandReply> ExecuteAsync(
        Opcode op, ReadOnlyMemory<byte> payload, uint checksum = 0, TimeSpan? timeout = null,
        int expectedDataLength = 0, CancellationToken cancellationToken = default)
    {
        await Link.SendAsync(Request.Build(op, payload.Span, checksum), cancellationToken).ConfigureAwait(false);
        return await ReadReplyAsync(op, timeout ?? Timeouts.Command, expectedDataLength, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Sends a prebuilt packet (e.g. a *_DATA request) and waits for its reply.</summary>
    public async Task<CommandReply> ExecutePacketAsync(
        byte[] packet, TimeSpan? timeout = null, int expectedDataLength = 0, CancellationToken cancellationToken = default)
    {
        await Link.SendAsync(packet, cancellationToken).ConfigureAwait(false);
        return await ReadReplyAsync((Opcode)packet[1], timeout ?? Timeouts.Command, expectedDataLength, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Waits for the reply to <paramref name="op"/> (used after pipelined sends too).</summary>
    public async Task<CommandReply> ReadReplyAsync(Opcode op, TimeSpan timeout, int expectedDataLength, CancellationToken cancellationToken)
    {
        for (int i = 0; i < MaxFramesPerCommand; i++)
        {
            var frame = await Link.ReadFrameAsync(timeout, cancellationToken).ConfigureAwait(false);
            if (!Response.TryParse(frame, out var r)) continue;
            var data = r.Data;
            if (r.Opcode != op)
            {
                // The ROM answers an unknown command with status 01 05 under another opcode (ESP32: the
                // previous command's). That is how esptool learns a command is unsupported.
                if (data.Length >= 2 && data[0] != 0 && data[1] == 0x05)
                {
                    // Stubs answer under the request's opcode; this reply is the ROM's. The chip has reset.
                    if (IsStub)
                        throw new EspException(EspErrorCode.StubNotRunning,
                            $"The chip answered {op} like its ROM loader, not the flasher stub: it has reset since the stub was started.");
                    throw Unsupported(op);
                }
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

    private CommandReply Check(Opcode op, uint value, ReadOnlySpan<byte> data, int expectedDataLength)
    {
        int statusAt = expectedDataLength == SecurityInfoLength
            ? (data.Length >= 22 ? 20 : data.Length >= 14 ? 12 : 0)
            : expectedDataLength;
        if (data.Length < statusAt + 2)
        {
            // A short reply: esptool reads the first two bytes as the status (a failure leaves out the data).
            if (data.Length >= 2 && data[0] != 0) return Fail(op, data[0], data[1]);
            throw new EspException(EspErrorCode.ProtocolViolation,
                $"The reply to {op} has {data.Length} bytes; expected {expectedDataLength} bytes and a status.");
        }
        byte status = data[statusAt], error = data[statusAt + 1];
        if (status != 0) return Fail(op, status, error);
        return new CommandReply(value, data[..statusAt].ToArray());
    }

    private CommandReply Fail(Opcode op, byte status, byte error)
    {
        if (IsStub || status != 1)
        {
            // Stub: the first status byte is the error code itself.
            if (status == 0xC3 || status == 0xFF) throw Unsupported(op, status, error);
            throw new EspCommandException(status is 0xC5 or 0x34 ? EspErrorCode.FlashWriteProtected : EspErrorCode.StubError, (byte)op, status, error,
                $"The flasher stub refused {op}: {StatusCodes.DescribeStub(status)} (status 0x{status:X2}{error:X2}).",
                status == 0xC5 || status == 0xC4 ? EspErrorHelp.For(EspErrorCode.FlashWriteProtected) : null);
        }
        if (error == 0x05 && IsDataBlock(op))
        {
            // *_DATA is supported by every ROM once *_BEGIN was accepted: 01 05 under its own opcode means the ROM
            // found the packet invalid (length or header damaged on the way), which a resend can fix.
            throw new EspCommandException(EspErrorCode.RomError, (byte)op, status, error,
                $"The ROM loader rejected a damaged {op} packet (status 0x{status:X2}{error:X2}: the message was invalid).",
                "The link corrupts data; check the cable and lower the baud rate.");
        }
        if (error == 0x05) throw Unsupported(op, status, error);
        throw new EspCommandException(EspErrorCode.RomError, (byte)op, status, error,
            $"The ROM loader refused {op}: {StatusCodes.DescribeRom(error)} (status 0x{status:X2}{error:X2}).",
            error == 0x08 ? "The write did not read back; check the flash's block-protect bits (read_flash_status) and the power supply." : null);
    }

    /// <summary>The data-carrying commands (MEM_DATA, FLASH_DATA, FLASH_DEFL_DATA).</summary>
    public static bool IsDataBlock(Opcode op) => op is Opcode.MemData or Opcode.FlashData or Opcode.FlashDeflData;

    private static EspCommandException Unsupported(Opcode op, byte status = 1, byte error = 5) =>
        new(EspErrorCode.UnsupportedCommand, (byte)op, status, error,
            $"The chip's loader does not support {op} (or refuses it in Secure Download Mode).");
}
