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

    /// <summary>Sends a command and waits for its reply.</summary>
    public async Task<CommandReply> ExecuteAsync(Command command, CancellationToken cancellationToken)
    {
        await Link.SendAsync(command.ToPacket(), cancellationToken).ConfigureAwait(false);
        return await ReadReplyAsync(command, cancellationToken).ConfigureAwait(false);
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

    private CommandReply Check(Opcode op, uint value, ReadOnlySpan<byte> data, int expectedDataLength)
    {
        int statusAt = expectedDataLength == SecurityInfoLength
            ? (data.Length >= 22 ? 20 : data.Length >= 14 ? 12 : 0)
            : expectedDataLength;
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
