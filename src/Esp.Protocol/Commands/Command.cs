namespace Esp.Protocol.Commands;

/// <summary>
/// One request to the loader: its opcode and payload, how long the reply may take, how many data bytes the reply
/// carries before its status bytes, and whether it may simply be sent again after its reply failed to come (it only
/// reads, so doing it twice changes nothing on the chip).
/// </summary>
public sealed record Command(Opcode Op, byte[] Payload, ReplyTimeout Timeout, uint Checksum = 0, int ReplyDataLength = 0, bool Repeatable = false)
{
    /// <summary>The request packet (unescaped).</summary>
    public byte[] ToPacket() => Request.Build(Op, Payload, Checksum);
}

/// <summary>
/// The loader's commands, one per opcode, each with its payload layout (protocol-facts corrections:
/// docs/protocol-facts-corrections.md) and its timeout rule. Commands whose layout differs between the ROM loader and
/// the flasher stub are built by <see cref="Loader.LoaderProtocol"/>.
/// </summary>
public static class LoaderCommands
{
    private static byte[] W(params uint[] words) => Request.Words(words);

    public static Command Sync() => new(Opcode.Sync, ProtocolConstants.SyncPayload.ToArray(), ReplyTimeout.Command);

    public static Command ReadReg(uint address) => new(Opcode.ReadReg, W(address), ReplyTimeout.Command, Repeatable: true);

    /// <summary>Writes <c>(value &amp; mask) | (old &amp; ~mask)</c> after <paramref name="delayUs"/> µs on the chip.</summary>
    public static Command WriteReg(uint address, uint value, uint mask = 0xFFFFFFFF, uint delayUs = 0) =>
        new(Opcode.WriteReg, W(address, value, mask, delayUs), ReplyTimeout.Command);

    public static Command GetSecurityInfo() =>
        new(Opcode.GetSecurityInfo, [], ReplyTimeout.Command, ReplyDataLength: Loader.CommandClient.SecurityInfoLength, Repeatable: true);

    public static Command MemBegin(uint size, uint blocks, uint blockSize, uint address) =>
        new(Opcode.MemBegin, W(size, blocks, blockSize, address), ReplyTimeout.Command);

    /// <summary>MEM_END: jump to <paramref name="entry"/> (0 = stay in the loader).</summary>
    public static Command MemEnd(uint entry, ReplyTimeout timeout) => new(Opcode.MemEnd, W(entry == 0 ? 1u : 0u, entry), timeout);

    /// <summary>SPI_SET_PARAMS: flash id 0, the size, 64 KiB blocks, 4 KiB sectors, 256-byte pages, status mask 0xFFFF.</summary>
    public static Command SpiSetParams(uint flashSize) =>
        new(Opcode.SpiSetParams, W(0, flashSize, 0x10000, 0x1000, 0x100, 0xFFFF), ReplyTimeout.Command, Repeatable: true);

    public static Command ReadFlashSlow(uint address, uint length) =>
        new(Opcode.ReadFlashSlow, W(address, length), ReplyTimeout.Command, ReplyDataLength: 64, Repeatable: true);

    /// <summary>The stub's streaming read: the reply, then packets of <paramref name="packetSize"/> each acknowledged.</summary>
    public static Command ReadFlash(uint address, uint length, uint packetSize, uint inFlight) =>
        new(Opcode.ReadFlash, W(address, length, packetSize, inFlight), ReplyTimeout.Command);

    public static Command EraseFlash() => new(Opcode.EraseFlash, [], ReplyTimeout.ChipErase);

    public static Command EraseRegion(uint address, uint length) => new(Opcode.EraseRegion, W(address, length), ReplyTimeout.EraseWriteOf(length));

    public static Command ChangeBaudrate(uint baud, uint oldBaud) => new(Opcode.ChangeBaudrate, W(baud, oldBaud), ReplyTimeout.Command);

    /// <summary>A *_DATA block: the 16-byte data header, the data, and the data's checksum in the request header.</summary>
    public static Command Data(Opcode op, ReadOnlySpan<byte> block, uint sequence, ReplyTimeout timeout)
    {
        var payload = new byte[Request.DataHeaderLength + block.Length];
        Request.WriteDataHeader(payload, block.Length, sequence);
        block.CopyTo(payload.AsSpan(Request.DataHeaderLength));
        return new Command(op, payload, timeout, ProtocolConstants.Checksum(block));
    }
}
