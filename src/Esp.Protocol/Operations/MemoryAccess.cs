using Esp.Protocol.Commands;
using Esp.Protocol.Errors;
using Esp.Protocol.Loader;

namespace Esp.Protocol.Operations;

/// <summary>read_mem, write_mem and dump_mem.</summary>
public static class MemoryAccess
{
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

    /// <summary>Reads <paramref name="size"/> bytes (a multiple of 4) of memory, READ_REGs in flight as the loader takes them.</summary>
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
        await RequestPipeline.RunAsync(session, words, i => LoaderCommands.ReadReg(address + (uint)(4 * i)), session.Windows.ReadReg,
            (i, reply) =>
            {
                BitConverter.TryWriteBytes(result.AsSpan(4 * i), reply.Value);
                if ((i + 1) % 256 == 0 || i + 1 == words) progress?.Report(new EspProgress("dump", 4L * (i + 1), size));
            }, ct).ConfigureAwait(false);
        return result;
    }

    private static void CheckAligned(uint address)
    {
        if (address % 4 != 0)
            throw new EspException(EspErrorCode.UnalignedAddress, $"The address 0x{address:X8} is not a multiple of 4.",
                $"Registers and memory words are read at word addresses, e.g. 0x{address & ~3u:X8}.");
    }
}
