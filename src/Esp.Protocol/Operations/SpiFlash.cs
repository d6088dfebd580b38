using Esp.Protocol.Errors;
using Esp.Protocol.Loader;

namespace Esp.Protocol.Operations;

/// <summary>
/// Runs one SPI flash command through the chip's SPI controller registers (<see cref="Chips.SpiRegisterMap"/>), the way
/// esptool's run_spiflash_command does, so that any flash opcode works in ROM and stub mode alike.
/// </summary>
public static class SpiFlash
{
    private const uint UsrCommand = 1u << 31, UsrAddr = 1u << 30, UsrDummy = 1u << 29, UsrMiso = 1u << 28, UsrMosi = 1u << 27;
    private const uint CmdUsr = 1u << 18;
    /// <summary>The controller's data buffer W0..W15.</summary>
    public const int MaxTransferBytes = 64;

    /// <summary>
    /// Runs <paramref name="opcode"/> with optional data out, address and dummy cycles, reading
    /// <paramref name="readBits"/> bits back (at most 32; use <see cref="ReadAsync"/> for longer reads).
    /// </summary>
    public static async Task<uint> RunCommandAsync(
        EspSession session, byte opcode, ReadOnlyMemory<byte> data = default, int readBits = 0,
        uint? address = null, int addressBits = 0, int dummyCycles = 0, CancellationToken ct = default)
    {
        var bytes = await TransferAsync(session, opcode, data, (readBits + 7) / 8, readBits, address, addressBits, dummyCycles, ct).ConfigureAwait(false);
        uint v = 0;
        for (int i = 0; i < Math.Min(4, bytes.Length); i++) v |= (uint)bytes[i] << (8 * i);
        if (readBits is > 0 and < 32) v &= (1u << readBits) - 1;
        return v;
    }

    /// <summary>Reads any number of bytes with an addressed read command (e.g. RDSFDP), in 64-byte transactions.</summary>
    public static async Task<byte[]> ReadAsync(EspSession session, byte opcode, uint address, int length,
        int addressBits = 24, int dummyCycles = 8, CancellationToken ct = default)
    {
        var result = new byte[length];
        for (int done = 0; done < length;)
        {
            int n = Math.Min(MaxTransferBytes, length - done);
            var part = await TransferAsync(session, opcode, default, n, n * 8, address + (uint)done, addressBits, dummyCycles, ct).ConfigureAwait(false);
            part.CopyTo(result, done);
            done += n;
        }
        return result;
    }

    private static async Task<byte[]> TransferAsync(
        EspSession session, byte opcode, ReadOnlyMemory<byte> data, int readBytes, int readBits,
        uint? address, int addressBits, int dummyCycles, CancellationToken ct)
    {
        if (data.Length > MaxTransferBytes)
            throw new EspException(EspErrorCode.InvalidArgument, $"An SPI flash command can send at most {MaxTransferBytes} data bytes.");
        if (readBytes > MaxTransferBytes)
            throw new EspException(EspErrorCode.InvalidArgument, $"An SPI flash command can read at most {MaxTransferBytes} bytes at once.");
        if (address is not null && addressBits is <= 0 or > 32)
            throw new EspException(EspErrorCode.InvalidArgument, "An SPI address must be 1 to 32 bits long.");

        var regs = session.Chip.Spi;
        int mosiBits = data.Length * 8;
        uint oldUsr = await session.ReadRegAsync(regs.Usr, ct).ConfigureAwait(false);
        uint oldUsr2 = await session.ReadRegAsync(regs.Usr2, ct).ConfigureAwait(false);

        uint usr1 = 0;
        if (dummyCycles > 0) usr1 |= (uint)(dummyCycles - 1);
        if (address is not null) usr1 |= (uint)(addressBits - 1) << 26;
        if (regs.MosiDlen is { } mosiReg)
        {
            if (mosiBits > 0) await session.WriteRegAsync(mosiReg, (uint)(mosiBits - 1), ct: ct).ConfigureAwait(false);
            if (readBits > 0) await session.WriteRegAsync(regs.MisoDlen!.Value, (uint)(readBits - 1), ct: ct).ConfigureAwait(false);
            if (usr1 != 0) await session.WriteRegAsync(regs.Usr1, usr1, ct: ct).ConfigureAwait(false);
        }
        else
        {
            // ESP8266: data lengths live in USR1 too, and USR1 is always written.
            usr1 |= (uint)(readBits > 0 ? readBits - 1 : 0) << 8;
            usr1 |= (uint)(mosiBits > 0 ? mosiBits - 1 : 0) << 17;
            await session.WriteRegAsync(regs.Usr1, usr1, ct: ct).ConfigureAwait(false);
        }

        uint usr = UsrCommand;
        if (readBits > 0) usr |= UsrMiso;
        if (mosiBits > 0) usr |= UsrMosi;
        if (address is not null) usr |= UsrAddr;
        if (dummyCycles > 0) usr |= UsrDummy;
        await session.WriteRegAsync(regs.Usr, usr, ct: ct).ConfigureAwait(false);
        await session.WriteRegAsync(regs.Usr2, (7u << 28) | opcode, ct: ct).ConfigureAwait(false);
        if (address is { } a)
        {
            uint value = regs.AddressLeftJustified && addressBits < 32 ? a << (32 - addressBits) : a;
            await session.WriteRegAsync(regs.Addr, value, ct: ct).ConfigureAwait(false);
        }
        if (data.Length == 0)
            await session.WriteRegAsync(regs.W0, 0, ct: ct).ConfigureAwait(false);
        else
        {
            var padded = new byte[(data.Length + 3) & ~3];
            data.Span.CopyTo(padded);
            for (int i = 0; i < padded.Length; i += 4)
                await session.WriteRegAsync(regs.W0 + (uint)i, BitConverter.ToUInt32(padded, i), ct: ct).ConfigureAwait(false);
        }
        await session.WriteRegAsync(regs.Cmd, CmdUsr, ct: ct).ConfigureAwait(false);

        bool done = false;
        for (int poll = 0; poll < 10 && !done; poll++)
            done = (await session.ReadRegAsync(regs.Cmd, ct).ConfigureAwait(false) & CmdUsr) == 0;
        if (!done)
            throw new EspException(EspErrorCode.SpiCommandTimeout, $"The SPI flash command 0x{opcode:X2} did not complete.");

        var result = new byte[readBytes];
        int words = Math.Max(1, (readBytes + 3) / 4);
        for (int w = 0; w < words; w++)
        {
            uint word = await session.ReadRegAsync(regs.W0 + (uint)(4 * w), ct).ConfigureAwait(false);
            for (int b = 0; b < 4 && 4 * w + b < readBytes; b++) result[4 * w + b] = (byte)(word >> (8 * b));
        }
        await session.WriteRegAsync(regs.Usr, oldUsr, ct: ct).ConfigureAwait(false);
        await session.WriteRegAsync(regs.Usr2, oldUsr2, ct: ct).ConfigureAwait(false);
        return result;
    }
}
