using System.Buffers.Binary;
using Esp.Protocol.Chips;
using Esp.Protocol.Framing;
using Esp.Protocol.Images;
using Esp.Protocol.Tests.Images;

namespace Esp.Reliability.Fuzz;

/// <summary>Valid inputs for each target; mutating them reaches deeper than random bytes do.</summary>
public static class FuzzSeeds
{
    public static IReadOnlyList<byte[]> For(string target) => target switch
    {
        "slip" => [Slip.Encode([0x01, 0x08, 0x04, 0x00, 0x07, 0x07, 0x12, 0x20, 0x00, 0x00]), [0xC0, 0xDB, 0xDC, 0xDB, 0xDD, 0xC0, 0xC0]],
        "reply" => [Replies()],
        "espimage" => [Esp32Image(), Esp8266Image()],
        "intelhex" => [System.Text.Encoding.ASCII.GetBytes(IntelHex.Write([new ImagePart(0x1000, Bytes(300, 1)), new ImagePart(0x20000, Bytes(40, 2))], 0x40080000))],
        "elf" => [Elf()],
        "partitions" => [PartitionTable.BuildNanoFramework()],
        "sfdp" => [Sfdp()],
        "stubjson" => [System.Text.Encoding.UTF8.GetBytes(Esp.Protocol.Stubs.FlasherStubs.Json("esp32c3.json"))],
        "securityinfo" => [Bytes(20, 3), Bytes(12, 4)],
        _ => [[]],
    };

    public static byte[] Bytes(int n, int seed)
    {
        var b = new byte[n];
        new Random(seed).NextBytes(b);
        return b;
    }

    private static byte[] Replies()
    {
        var ms = new MemoryStream();
        void Reply(byte op, uint value, byte[] data)
        {
            var p = new byte[8 + data.Length];
            p[0] = 1; p[1] = op;
            BinaryPrimitives.WriteUInt16LittleEndian(p.AsSpan(2), (ushort)data.Length);
            BinaryPrimitives.WriteUInt32LittleEndian(p.AsSpan(4), value);
            data.CopyTo(p, 8);
            ms.Write(Slip.Encode(p));
        }
        Reply(0x13, 0, [.. Bytes(16, 5), 0, 0]);
        Reply(0x13, 0, [.. "0123456789abcdef0123456789abcdef"u8.ToArray(), 0, 0, 0, 0]);
        Reply(0x0A, 0x00F01D83, [0, 0, 0, 0]);
        Reply(0x14, 0, [.. Bytes(20, 6), 0, 0, 0, 0]);
        Reply(0x03, 0, [1, 7]);
        Reply(0x02, 0, [1, 5]);
        Reply(0x0E, 0, [.. Bytes(64, 7), 0, 0]);
        return ms.ToArray();
    }

    private static byte[] Esp32Image()
    {
        var image = EspImage.Create(ChipDatabase.Esp32);
        image.Entry = 0x40080400;
        image.Segments.Add(new ImageSegment(0x3F400020, Bytes(256, 8)));
        image.Segments.Add(new ImageSegment(0x40080000, Bytes(512, 9)));
        return image.ToBytes();
    }

    private static byte[] Esp8266Image()
    {
        var image = EspImage.Create(ChipDatabase.Get("esp8266"));
        image.Entry = 0x40100000;
        image.Segments.Add(new ImageSegment(0x40100000, Bytes(128, 10)));
        return image.ToBytes();
    }

    private static byte[] Elf() => new ElfWriter()
        .Add(".iram0.text", 0x40080000, Bytes(256, 11))
        .Add(".dram0.data", 0x3FFB0000, Bytes(64, 12), ElfWriter.ShfAlloc | ElfWriter.ShfWrite)
        .Add(".flash.text", 0x400D0020, Bytes(512, 13))
        .AddBss(".bss", 0x3FFB1000, 128)
        .Build();

    private static byte[] Sfdp()
    {
        // JESD216 header, one parameter header pointing at a 9-dword basic table.
        var b = new byte[0x30 + 36];
        BinaryPrimitives.WriteUInt32LittleEndian(b, 0x50444653);
        b[4] = 6; b[5] = 1; b[6] = 0; b[7] = 0xFF;
        b[8] = 0; b[9] = 6; b[10] = 1; b[11] = 9; b[12] = 0x30;
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(0x30 + 4), 32 * 1024 * 1024 - 1);
        b[0x30 + 28] = 12; b[0x30 + 29] = 0x20; b[0x30 + 30] = 15; b[0x30 + 31] = 0x52; b[0x30 + 32] = 16; b[0x30 + 33] = 0xD8;
        return b;
    }

    /// <summary>A deterministic mutation of a seed: flips, inserts, deletes, truncation, interesting values.</summary>
    public static byte[] Mutate(byte[] seed, int rngSeed, int mutations)
    {
        var rng = new Random(rngSeed);
        var data = new List<byte>(seed);
        for (int m = 0; m < mutations; m++)
        {
            int at = data.Count == 0 ? 0 : rng.Next(data.Count);
            switch (rng.Next(7))
            {
                case 0 when data.Count > 0: data[at] ^= (byte)(1 << rng.Next(8)); break;
                case 1: data.Insert(at, (byte)rng.Next(256)); break;
                case 2 when data.Count > 0: data.RemoveAt(at); break;
                case 3 when data.Count > 0: data.RemoveRange(at, data.Count - at); break;
                case 4 when data.Count >= at + 4:
                    uint v = rng.Next(6) switch { 0 => 0, 1 => 0xFFFFFFFF, 2 => 0x7FFFFFFF, 3 => 0x80000000, 4 => (uint)rng.Next(), _ => 0x1000000 };
                    for (int i = 0; i < 4; i++) data[at + i] = (byte)(v >> (8 * i));
                    break;
                case 5 when data.Count > 0: data[at] = (byte)rng.Next(256); break;
                default:
                    // Duplicate a chunk (repeated records, segments, frames).
                    if (data.Count > 0)
                    {
                        int len = Math.Min(data.Count - at, rng.Next(1, 64));
                        data.InsertRange(rng.Next(data.Count), data.GetRange(at, len));
                    }
                    break;
            }
        }
        return data.ToArray();
    }
}
