using Esp.Protocol.Commands;
using Esp.Protocol.Errors;
using Esp.Protocol.Loader;

namespace Esp.Protocol.Operations;

/// <summary>read_mem, write_mem and dump_mem.</summary>
public static class MemoryAccess
{
    /// <summary>
    /// READ_REG requests kept in flight by <see cref="DumpAsync"/>. Each is 14 bytes on the wire; 8 of them
    /// (112 bytes) fit the ROM UART's 128-byte receive FIFO even if the chip reads none of them for a while.
    /// </summary>
    public static int DumpRequestsInFlight { get; set; } = 1;

    /// <summary>
    /// READ_REG requests kept in flight with a flasher stub. The stubs take UART input by interrupt into frame
    /// buffers and answer READ_REG in microseconds, so requests (each ~150 µs on the wire at 921600 Bd) never pile
    /// up; the window only has to cover the link's round trip (docs/performance.md).
    /// </summary>
    public static int StubDumpRequestsInFlight { get; set; } = 1;

    public static Task<uint> ReadWordAsync(EspSession session, uint address, CancellationToken ct = default)
    {
        CheckAligned(address);
        return session.ReadRegAsync(address, ct);
    }

    /// <summary>Writes <c>(value &amp; mask) | (old &amp; ~mask)</c> after waiting <paramref name="delayUs"/> µs on the chip.</summary>
    public static Task WriteWordAsync(EspSession session, uint address, uint value, uint mask = 0xFFFFFFFF, uint delayUs = 0, CancellationToken ct = default)
    {
        CheckAligned(address);
        return session.WriteRegAsync(address, value, mask, delayUs, ct);
    }

    /// <summary>Reads <paramref name="size"/> bytes (a multiple of 4) of memory, several READ_REGs in flight at once.</summary>
    public static async Task<byte[]> DumpAsync(EspSession session, uint address, int size, IProgress<EspProgress>? progress = null, CancellationToken ct = default)
    {
        CheckAligned(address);
        if (size <= 0 || size % 4 != 0)
            throw new EspException(EspErrorCode.InvalidArgument, $"The dump size {size} is not a positive multiple of 4.",
                $"Use {Math.Max(4, (size + 3) / 4 * 4)}.");
        if ((ulong)address + (ulong)size > 0x1_0000_0000UL)
            throw new EspException(EspErrorCode.AddressOutOfRange, $"0x{address:X8} + {size} bytes runs past the end of the address space.");
        int words = size / 4;
        var result = new byte[size];
        int window = Math.Max(1, session.IsStub ? StubDumpRequestsInFlight : DumpRequestsInFlight);
        int sent = 0, received = 0;
        var batch = new List<byte[]>(window);
        while (received < words)
        {
            batch.Clear();
            while (sent < words && sent - received < window)
            {
                batch.Add(Request.Build(Opcode.ReadReg, Request.Words(address + (uint)(4 * sent))));
                sent++;
            }
            if (batch.Count > 0) await session.Link.SendManyAsync(batch, ct).ConfigureAwait(false);
            var reply = await session.Commands.ReadReplyAsync(Opcode.ReadReg, session.Timeouts.Command, 0, ct).ConfigureAwait(false);
            BitConverter.TryWriteBytes(result.AsSpan(4 * received), reply.Value);
            received++;
            if (received % 256 == 0 || received == words) progress?.Report(new EspProgress("dump", 4L * received, size));
        }
        return result;
    }

    private static void CheckAligned(uint address)
    {
        if (address % 4 != 0)
            throw new EspException(EspErrorCode.UnalignedAddress, $"The address 0x{address:X8} is not a multiple of 4.",
                $"Registers and memory words are read at word addresses, e.g. 0x{address & ~3u:X8}.");
    }
}
