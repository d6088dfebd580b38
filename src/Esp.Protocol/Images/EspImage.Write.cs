using System.Buffers.Binary;
using System.Security.Cryptography;
using Esp.Protocol.Commands;
using Esp.Protocol.Errors;

namespace Esp.Protocol.Images;

/// <summary>Writing an image: headers, segments, padding, checksum and hash.</summary>
public sealed partial class EspImage
{
    /// <summary>
    /// Writes the image: headers, segments in list order, zero padding so the checksum sits at offset ≡ 15 (mod 16),
    /// the checksum, then the SHA-256 (ESP32 layout with <see cref="HashAppended"/>) or CRC-32 (ESP8266 v2).
    /// The segment count in the header is taken from <see cref="Segments"/>.
    /// </summary>
    /// <exception cref="EspException">InvalidImage when a segment cannot be stored (too many, length not a multiple of 4, ≥ 16 MiB).</exception>
    public byte[] ToBytes()
    {
        if (Segments.Count > MaxSegments)
            throw Invalid($"The image has {Segments.Count} segments; at most {MaxSegments} are allowed.",
                "Merge sections in the linker script so that fewer segments remain.");
        foreach (var s in Segments.Append(IromSegment).OfType<ImageSegment>()) CheckStorable(s);

        using var ms = new MemoryStream();
        if (Format == ImageFormat.Esp8266V2)
        {
            WriteCommonHeader(ms, MagicV2, V2HeaderSegmentCount);
            if (IromSegment is { } irom)
            {
                int padded = (irom.Length + 15) & ~15;
                WriteSegmentHeader(ms, 0, padded);
                ms.Write(irom.Data);
                ms.Write(new byte[padded - irom.Length]);
            }
        }
        WriteCommonHeader(ms, Magic, (byte)Segments.Count);
        if (Format == ImageFormat.Esp32) WriteExtendedHeader(ms);
        byte checksum = ProtocolConstants.ChecksumSeed;
        foreach (var s in Segments)
        {
            WriteSegmentHeader(ms, s.Address, s.Length);
            ms.Write(s.Data);
            checksum = ProtocolConstants.Checksum(s.Data, checksum);
        }
        int pad = 15 - (int)(ms.Length % 16);
        ms.Write(new byte[pad]);
        ms.WriteByte(checksum);

        if (Format == ImageFormat.Esp32 && HashAppended)
        {
            var hash = SHA256.HashData(ms.GetBuffer().AsSpan(0, (int)ms.Length));
            ms.Write(hash);
        }
        else if (Format == ImageFormat.Esp8266V2)
        {
            Span<byte> crc = stackalloc byte[4];
            BinaryPrimitives.WriteUInt32LittleEndian(crc, Esp8266Crc(ms.GetBuffer().AsSpan(0, (int)ms.Length)));
            ms.Write(crc);
        }
        return ms.ToArray();
    }

    private static void CheckStorable(ImageSegment s)
    {
        if (s.Length % 4 != 0)
            throw Invalid($"Segment at 0x{s.Address:X8}{(s.Name is null ? "" : $" ({s.Name})")} is 0x{s.Length:X} bytes long; segment lengths must be multiples of 4.",
                "Pad the segment data with zeros to a multiple of 4 bytes.");
        if (s.Length >= MaxSegmentLength)
            throw Invalid($"Segment at 0x{s.Address:X8} is 0x{s.Length:X} bytes long; segments must be shorter than 16 MiB.",
                "Split the data into several segments.");
    }

    private void WriteCommonHeader(Stream s, byte magic, byte count)
    {
        Span<byte> h = stackalloc byte[HeaderLength];
        h[0] = magic;
        h[1] = count;
        h[2] = (byte)FlashMode;
        h[3] = FlashSizeFrequency;
        BinaryPrimitives.WriteUInt32LittleEndian(h[4..], Entry);
        s.Write(h);
    }

    private void WriteExtendedHeader(Stream s)
    {
        Span<byte> h = stackalloc byte[ExtendedHeaderLength];
        h[0] = WpPin;
        h[1] = Join(ClkDrive, QDrive);
        h[2] = Join(DDrive, CsDrive);
        h[3] = Join(HdDrive, WpDrive);
        BinaryPrimitives.WriteUInt16LittleEndian(h[4..], ChipId);
        h[6] = MinRev;
        BinaryPrimitives.WriteUInt16LittleEndian(h[7..], MinRevFull);
        BinaryPrimitives.WriteUInt16LittleEndian(h[9..], MaxRevFull);
        BinaryPrimitives.WriteUInt32LittleEndian(h[11..], Reserved);
        h[15] = HashAppended ? (byte)1 : (byte)0;
        s.Write(h);

        static byte Join(byte low, byte high) => (byte)((low & 0x0F) | ((high & 0x0F) << 4));
    }

    private static void WriteSegmentHeader(Stream s, uint address, int length)
    {
        Span<byte> h = stackalloc byte[SegmentHeaderLength];
        BinaryPrimitives.WriteUInt32LittleEndian(h, address);
        BinaryPrimitives.WriteUInt32LittleEndian(h[4..], (uint)length);
        s.Write(h);
    }
}
