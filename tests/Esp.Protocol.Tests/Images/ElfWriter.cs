using System.Buffers.Binary;
using System.Text;

namespace Esp.Protocol.Tests.Images;

/// <summary>A tiny ELF32 writer for tests: header, optional PT_LOAD program headers, section headers.</summary>
internal sealed class ElfWriter
{
    public sealed record Section(string Name, uint Type, uint Flags, uint Address, byte[] Data, uint NoBitsSize = 0);

    public ushort Machine { get; set; } = 0x5E;
    public uint Entry { get; set; } = 0x40080400;
    public byte Class { get; set; } = 1;
    public byte DataEncoding { get; set; } = 1;
    public bool ProgramHeaders { get; set; } = true;
    public List<Section> Sections { get; } = [];

    public const uint ShfWrite = 1, ShfAlloc = 2, ShfExec = 4;
    public const uint Progbits = 1, Nobits = 8, Strtab = 3;

    public ElfWriter Add(string name, uint address, byte[] data, uint flags = ShfAlloc | ShfExec)
    {
        Sections.Add(new Section(name, Progbits, flags, address, data));
        return this;
    }

    public ElfWriter AddBss(string name, uint address, uint size)
    {
        Sections.Add(new Section(name, Nobits, ShfAlloc | ShfWrite, address, [], size));
        return this;
    }

    public byte[] Build()
    {
        var shstr = new MemoryStream();
        shstr.WriteByte(0);
        var nameOffsets = new List<int>();
        foreach (var s in Sections.Select(s => s.Name).Append(".shstrtab"))
        {
            nameOffsets.Add((int)shstr.Length);
            shstr.Write(Encoding.ASCII.GetBytes(s));
            shstr.WriteByte(0);
        }
        var loads = ProgramHeaders ? Sections.Where(s => s.Type == Progbits && (s.Flags & ShfAlloc) != 0).ToList() : [];
        int phoff = 52;
        int pos = phoff + loads.Count * 32;
        var dataOffsets = new List<int>();
        var body = new MemoryStream();
        foreach (var s in Sections)
        {
            dataOffsets.Add(pos + (int)body.Length);
            body.Write(s.Data);
            while (body.Length % 4 != 0) body.WriteByte(0);
        }
        int shstrOffset = pos + (int)body.Length;
        body.Write(shstr.ToArray());
        while (body.Length % 4 != 0) body.WriteByte(0);
        int shoff = pos + (int)body.Length;
        int shnum = Sections.Count + 2;

        var f = new byte[shoff + shnum * 40];
        var h = f.AsSpan();
        h[0] = 0x7F; h[1] = (byte)'E'; h[2] = (byte)'L'; h[3] = (byte)'F';
        h[4] = Class; h[5] = DataEncoding; h[6] = 1;
        W16(h[16..], 2); // ET_EXEC
        W16(h[18..], Machine);
        W32(h[20..], 1);
        W32(h[24..], Entry);
        W32(h[28..], loads.Count > 0 ? (uint)phoff : 0);
        W32(h[32..], (uint)shoff);
        W16(h[40..], 52);
        W16(h[42..], 32);
        W16(h[44..], (ushort)loads.Count);
        W16(h[46..], 40);
        W16(h[48..], (ushort)shnum);
        W16(h[50..], (ushort)(shnum - 1));
        for (int i = 0; i < loads.Count; i++)
        {
            var p = h.Slice(phoff + i * 32, 32);
            int idx = Sections.IndexOf(loads[i]);
            W32(p, 1);
            W32(p[4..], (uint)dataOffsets[idx]);
            W32(p[8..], loads[i].Address);
            W32(p[12..], loads[i].Address);
            W32(p[16..], (uint)loads[i].Data.Length);
            W32(p[20..], (uint)loads[i].Data.Length);
            W32(p[24..], 5);
            W32(p[28..], 4);
        }
        body.ToArray().CopyTo(f, pos);
        for (int i = 0; i < Sections.Count; i++)
        {
            var s = Sections[i];
            var sh = h.Slice(shoff + (i + 1) * 40, 40);
            W32(sh, (uint)nameOffsets[i]);
            W32(sh[4..], s.Type);
            W32(sh[8..], s.Flags);
            W32(sh[12..], s.Address);
            W32(sh[16..], (uint)dataOffsets[i]);
            W32(sh[20..], s.Type == Nobits ? s.NoBitsSize : (uint)s.Data.Length);
            W32(sh[32..], 4);
        }
        var st = h.Slice(shoff + (shnum - 1) * 40, 40);
        W32(st, (uint)nameOffsets[^1]);
        W32(st[4..], Strtab);
        W32(st[16..], (uint)shstrOffset);
        W32(st[20..], (uint)shstr.Length);
        W32(st[32..], 1);

        if (DataEncoding == 2) // flip the header words for a big-endian variant; contents are irrelevant to the test
        {
            W16BE(h[16..], 2);
            W16BE(h[18..], Machine);
        }
        return f;
    }

    private static void W16(Span<byte> s, ushort v) => BinaryPrimitives.WriteUInt16LittleEndian(s, v);
    private static void W16BE(Span<byte> s, ushort v) => BinaryPrimitives.WriteUInt16BigEndian(s, v);
    private static void W32(Span<byte> s, uint v) => BinaryPrimitives.WriteUInt32LittleEndian(s, v);
}
