using System.Buffers.Binary;

namespace Esp.Simulator;

/// <summary>The flash model's SFDP table.</summary>
internal static class SfdpTable
{
    /// <summary>
    /// JESD216B table: header with two parameter headers (basic flash parameter table at 0x30, 16 dwords; a vendor
    /// table at 0x90). Density, erase types (4K 0x20 / 32K 0x52 / 64K 0xD8) and page size match the model; the
    /// timing and fast-read dwords carry typical GD25Q values and are not acted upon.
    /// </summary>
    public static byte[] Build(int size, byte manufacturer)
    {
        var t = new byte[0x9C];
        t.AsSpan().Fill(0xFF);
        BinaryPrimitives.WriteUInt32LittleEndian(t.AsSpan(0), 0x50444653); // "SFDP"
        t[4] = 0x06; t[5] = 0x01; t[6] = 0x01; t[7] = 0xFF;                 // rev 1.6, NPH = 1 (two headers)
        t[8] = 0x00; t[9] = 0x06; t[10] = 0x01; t[11] = 16;                 // BFPT id 0, rev 1.6, 16 dwords
        t[12] = 0x30; t[13] = 0; t[14] = 0; t[15] = 0xFF;
        t[16] = manufacturer; t[17] = 0x00; t[18] = 0x01; t[19] = 3;         // vendor table
        t[20] = 0x90; t[21] = 0; t[22] = 0; t[23] = 0xFF;
        uint[] bfpt =
        [
            0xFFF120E5,                      // 4K erase 0x20, 1-1-2/1-2-2/1-1-4/1-4-4 reads, 3-byte address
            (uint)((long)size * 8 - 1),      // density in bits - 1
            0x6B08EB44, 0xBB423B08, 0xFFFFFFEE, 0xFF00FFFF, 0xFF00FFFF,
            0x520F200C,                      // erase type 1: 4 KiB (2^12) 0x20; type 2: 32 KiB (2^15) 0x52
            0x0000D810,                      // erase type 3: 64 KiB (2^16) 0xD8; type 4 unused
            0x00A60236, 0x14EA8281,          // erase/program timing, page size 256 (2^8 in DW11[7:4])
            0x33F97A10, 0x757A7579, 0x5CD5A2F7, 0xFF4DF719, 0x80F830E9,
        ];
        for (var i = 0; i < bfpt.Length; i++) BinaryPrimitives.WriteUInt32LittleEndian(t.AsSpan(0x30 + 4 * i), bfpt[i]);
        BinaryPrimitives.WriteUInt32LittleEndian(t.AsSpan(0x90), 0x27003600);
        BinaryPrimitives.WriteUInt32LittleEndian(t.AsSpan(0x94), 0xF77F0000);
        BinaryPrimitives.WriteUInt32LittleEndian(t.AsSpan(0x98), 0xFFFF0000);
        return t;
    }
}
