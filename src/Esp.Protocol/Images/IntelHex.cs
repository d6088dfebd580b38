using System.Globalization;
using System.Text;
using Esp.Protocol.Errors;

namespace Esp.Protocol.Images;

/// <summary>
/// Intel HEX reading and writing, as esptool takes .hex files. Reading accepts record types 00 (data), 01 (end of file),
/// 02 (extended segment address), 03 (start segment address), 04 (extended linear address) and 05 (start linear
/// address), and splits the data into maximal runs of consecutive addresses. Writing emits 16 data bytes per record,
/// type 04 records whenever the upper 16 address bits change, an optional type 05 record and the EOF record.
/// </summary>
public static class IntelHex
{
    /// <summary>The result of reading a HEX file.</summary>
    /// <param name="Runs">Maximal runs of consecutive data addresses, in address order.</param>
    /// <param name="StartLinearAddress">Value of a type 05 record, if present.</param>
    /// <param name="StartSegmentAddress">Value (CS·65536 + IP) of a type 03 record, if present.</param>
    public sealed record HexFile(IReadOnlyList<ImagePart> Runs, uint? StartLinearAddress, uint? StartSegmentAddress);

    /// <summary>True when the data starts with ':' (how esptool decides to try Intel HEX).</summary>
    public static bool LooksLikeHex(ReadOnlySpan<byte> data) => data.Length > 0 && data[0] == (byte)':';

    /// <summary>Reads Intel HEX from bytes (ASCII).</summary>
    /// <exception cref="EspException">InvalidIntelHex, naming the line, for any malformed record.</exception>
    public static HexFile Parse(ReadOnlySpan<byte> data)
    {
        foreach (byte b in data)
            if (b > 0x7F)
                throw Bad(0, "The file contains non-ASCII bytes, so it is not Intel HEX.");
        return Parse(Encoding.ASCII.GetString(data));
    }

    /// <summary>Reads Intel HEX text.</summary>
    /// <exception cref="EspException">InvalidIntelHex, naming the line, for any malformed record.</exception>
    public static HexFile Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var chunks = new List<(ulong Address, byte[] Data, int Line)>();
        ulong baseAddress = 0;
        uint? startLinear = null, startSegment = null;
        bool sawEof = false;
        int lineNo = 0;
        foreach (var rawLine in text.Split('\n'))
        {
            lineNo++;
            var line = rawLine.Trim();
            if (line.Length == 0) continue;
            if (line[0] != ':')
                throw Bad(lineNo, $"Line {lineNo} does not start with ':'.");
            var hex = line.AsSpan(1);
            if (hex.Length % 2 != 0)
                throw Bad(lineNo, $"Line {lineNo} has an odd number of hex digits ({hex.Length}).");
            if (hex.Length < 10)
                throw Bad(lineNo, $"Line {lineNo} is too short for a record ({hex.Length / 2} bytes; at least 5 needed).");
            var rec = new byte[hex.Length / 2];
            for (int i = 0; i < rec.Length; i++)
                if (!byte.TryParse(hex.Slice(i * 2, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out rec[i]))
                    throw Bad(lineNo, $"Line {lineNo} contains '{hex.Slice(i * 2, 2)}', which is not a hex byte.");
            int count = rec[0];
            if (rec.Length != count + 5)
                throw Bad(lineNo, $"Line {lineNo} declares {count} data bytes but holds {rec.Length - 5}.");
            byte sum = 0;
            foreach (byte b in rec) sum += b;
            if (sum != 0)
                throw Bad(lineNo, $"Line {lineNo} has checksum 0x{rec[^1]:X2}; the record needs 0x{(byte)(rec[^1] - sum):X2}.");
            if (sawEof) continue; // like the common readers, ignore anything after the EOF record
            int offset = (rec[1] << 8) | rec[2];
            byte type = rec[3];
            var payload = rec.AsSpan(4, count);
            switch (type)
            {
                case 0x00:
                    if (count == 0) break;
                    ulong address = baseAddress + (ulong)offset;
                    if (address + (ulong)count > 0x1_0000_0000UL)
                        throw Bad(lineNo, $"Line {lineNo} puts data at 0x{address:X}, past the 32-bit address space.");
                    chunks.Add((address, payload.ToArray(), lineNo));
                    break;
                case 0x01:
                    if (count != 0) throw Bad(lineNo, $"Line {lineNo}: the end-of-file record must carry no data.");
                    sawEof = true;
                    break;
                case 0x02:
                    RequireLength(2);
                    baseAddress = (ulong)((payload[0] << 8) | payload[1]) << 4;
                    break;
                case 0x03:
                    RequireLength(4);
                    startSegment = (uint)((payload[0] << 24) | (payload[1] << 16) | (payload[2] << 8) | payload[3]);
                    break;
                case 0x04:
                    RequireLength(2);
                    baseAddress = (ulong)((payload[0] << 8) | payload[1]) << 16;
                    break;
                case 0x05:
                    RequireLength(4);
                    startLinear = (uint)((payload[0] << 24) | (payload[1] << 16) | (payload[2] << 8) | payload[3]);
                    break;
                default:
                    throw Bad(lineNo, $"Line {lineNo} has record type 0x{type:X2}; only types 00–05 exist.");
            }

            void RequireLength(int n)
            {
                if (count != n) throw Bad(lineNo, $"Line {lineNo}: a type 0x{type:X2} record carries {n} bytes, not {count}.");
            }
        }
        return new HexFile(ToRuns(chunks), startLinear, startSegment);
    }

    private static List<ImagePart> ToRuns(List<(ulong Address, byte[] Data, int Line)> chunks)
    {
        chunks.Sort((a, b) => a.Address.CompareTo(b.Address));
        var runs = new List<ImagePart>();
        int i = 0;
        while (i < chunks.Count)
        {
            ulong start = chunks[i].Address, end = start;
            using var ms = new MemoryStream();
            int j = i;
            for (; j < chunks.Count && chunks[j].Address <= end; j++)
            {
                if (chunks[j].Address < end)
                    throw Bad(chunks[j].Line,
                        $"Line {chunks[j].Line} writes address 0x{chunks[j].Address:X}, which an earlier record already holds.");
                ms.Write(chunks[j].Data);
                end += (ulong)chunks[j].Data.Length;
            }
            runs.Add(new ImagePart((uint)start, ms.ToArray()));
            i = j;
        }
        return runs;
    }

    /// <summary>
    /// Writes parts as Intel HEX: 16 data bytes per record, records never cross a 64 KiB boundary, a type 04 record
    /// before the first data and whenever the upper address bits change, then an optional type 05 and the EOF record.
    /// Gaps between parts stay gaps.
    /// </summary>
    /// <exception cref="EspException">OverlappingRegions when two parts overlap; FileTooLarge when a part runs past 4 GiB.</exception>
    public static string Write(IEnumerable<ImagePart> parts, uint? startLinearAddress = null, string newLine = "\n")
    {
        ArgumentNullException.ThrowIfNull(parts);
        var sorted = MergeBin.CheckedSort(parts);
        var sb = new StringBuilder();
        int upper = -1;
        foreach (var part in sorted)
        {
            int pos = 0;
            while (pos < part.Data.Length)
            {
                uint address = part.Address + (uint)pos;
                int up = (int)(address >> 16);
                if (up != upper)
                {
                    Record(sb, 0x04, 0, [(byte)(up >> 8), (byte)up], newLine);
                    upper = up;
                }
                int untilBoundary = 0x10000 - (int)(address & 0xFFFF);
                int n = Math.Min(Math.Min(16, part.Data.Length - pos), untilBoundary);
                Record(sb, 0x00, (ushort)address, part.Data.AsSpan(pos, n), newLine);
                pos += n;
            }
        }
        if (startLinearAddress is { } s)
            Record(sb, 0x05, 0, [(byte)(s >> 24), (byte)(s >> 16), (byte)(s >> 8), (byte)s], newLine);
        Record(sb, 0x01, 0, [], newLine);
        return sb.ToString();
    }

    private static void Record(StringBuilder sb, byte type, ushort offset, ReadOnlySpan<byte> data, string newLine)
    {
        byte sum = (byte)(data.Length + (offset >> 8) + (offset & 0xFF) + type);
        sb.Append(':').Append(data.Length.ToString("X2", CultureInfo.InvariantCulture))
          .Append(offset.ToString("X4", CultureInfo.InvariantCulture)).Append(type.ToString("X2", CultureInfo.InvariantCulture));
        foreach (byte b in data)
        {
            sb.Append(b.ToString("X2", CultureInfo.InvariantCulture));
            sum += b;
        }
        sb.Append(((byte)-sum).ToString("X2", CultureInfo.InvariantCulture)).Append(newLine);
    }

    private static EspException Bad(int line, string message) =>
        new(EspErrorCode.InvalidIntelHex, message,
            line > 0 ? $"Fix or regenerate the file; the problem is on line {line}." : "Give an Intel HEX text file, or a raw binary.");
}
