using System.Buffers.Binary;
using Esp.Protocol.Errors;
using Esp.Protocol.Loader;

namespace Esp.Protocol.Operations;

/// <summary>One erase type from the basic flash parameter table.</summary>
public sealed record SfdpEraseType(int Size, byte Opcode);

/// <summary>The parts of a JESD216 SFDP table that tools show.</summary>
public sealed record SfdpInfo(byte MajorRevision, byte MinorRevision, int ParameterHeaders, uint BasicTableAddress, int BasicTableDwords,
    long? DensityBits, IReadOnlyList<SfdpEraseType> EraseTypes)
{
    public long? DensityBytes => DensityBits / 8;

    /// <summary>Parses the SFDP header (and the basic table when <paramref name="sfdp"/> covers it).</summary>
    public static SfdpInfo Parse(ReadOnlySpan<byte> sfdp)
    {
        if (sfdp.Length < 16 || BinaryPrimitives.ReadUInt32LittleEndian(sfdp) != 0x50444653)
            throw new EspException(EspErrorCode.InvalidSfdp, "The flash has no SFDP table (the signature \"SFDP\" is missing).");
        byte minor = sfdp[4], major = sfdp[5];
        int headers = sfdp[6] + 1;
        // First parameter header (basic flash parameter table) at offset 8.
        int dwords = sfdp[8 + 3];
        uint pointer = (uint)(sfdp[8 + 4] | sfdp[8 + 5] << 8 | sfdp[8 + 6] << 16);
        long? density = null;
        var erase = new List<SfdpEraseType>();
        if (pointer + 36 <= sfdp.Length && dwords >= 9)
        {
            var table = sfdp[(int)pointer..];
            uint d2 = BinaryPrimitives.ReadUInt32LittleEndian(table[4..]);
            density = (d2 & 0x8000_0000) != 0 ? 1L << (int)Math.Min(62, d2 & 0x7FFF_FFFF) : (long)d2 + 1;
            for (int i = 0; i < 4; i++)
            {
                byte sizeLog2 = table[28 + 2 * i], opcode = table[28 + 2 * i + 1];
                if (sizeLog2 != 0) erase.Add(new SfdpEraseType(1 << Math.Min(30, (int)sizeLog2), opcode));
            }
        }
        return new SfdpInfo(major, minor, headers, pointer, dwords, density, erase);
    }

    public static Task<byte[]> ReadAsync(EspSession session, uint address, int length, CancellationToken ct = default) =>
        Sfdp.ReadAsync(session, address, length, ct);
}

/// <summary>read_flash_sfdp: RDSFDP (5Ah), 24-bit address, 8 dummy cycles, any length.</summary>
public static class Sfdp
{
    public const byte ReadSfdpOpcode = 0x5A;

    public static async Task<byte[]> ReadAsync(EspSession session, uint address, int length, CancellationToken ct = default)
    {
        if (length <= 0 || length > 4096)
            throw new EspException(EspErrorCode.InvalidArgument, $"The SFDP read length must be 1..4096 bytes (got {length}).");
        if (address + (ulong)length > 0x1000000)
            throw new EspException(EspErrorCode.AddressOutOfRange, "SFDP addresses are 24 bits: address + length must not exceed 0x1000000.");
        await session.EnsureFlashAttachedAsync(ct).ConfigureAwait(false);
        return await SpiFlash.ReadAsync(session, ReadSfdpOpcode, address, length, 24, 8, ct).ConfigureAwait(false);
    }

    /// <summary>Reads the header and the basic flash parameter table and decodes them.</summary>
    public static async Task<(byte[] Bytes, SfdpInfo Info)> ReadTableAsync(EspSession session, CancellationToken ct = default)
    {
        var header = await ReadAsync(session, 0, 16, ct).ConfigureAwait(false);
        var info = SfdpInfo.Parse(header);
        int end = (int)Math.Min(4096, info.BasicTableAddress + (uint)Math.Min(64, info.BasicTableDwords) * 4);
        var all = await ReadAsync(session, 0, Math.Max(16, end), ct).ConfigureAwait(false);
        return (all, SfdpInfo.Parse(all));
    }
}
