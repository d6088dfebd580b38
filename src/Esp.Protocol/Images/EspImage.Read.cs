using System.Buffers.Binary;
using System.Security.Cryptography;
using Esp.Protocol.Chips;
using Esp.Protocol.Errors;

namespace Esp.Protocol.Images;

/// <summary>Reading an image: parse, check and the header and segment readers.</summary>
public sealed partial class EspImage
{
    /// <summary>
    /// Reads an image. With <paramref name="chip"/> null the layout is guessed: 0xEA → ESP8266 v2; 0xE9 with a known
    /// chip id and a hash flag of 0/1 in the extended-header position → ESP32 layout, otherwise ESP8266 v1.
    /// Bytes after the image (signature blocks, 0xFF fill of a merged file) are ignored.
    /// A wrong checksum or SHA-256 does not throw: see <see cref="ChecksumValid"/>, <see cref="Sha256Valid"/> and
    /// <see cref="Verify"/>.
    /// </summary>
    /// <exception cref="EspException">InvalidImage when the bytes are not a well-formed image.</exception>
    public static EspImage Parse(ReadOnlySpan<byte> data, ChipDefinition? chip = null)
    {
        if (data.Length < HeaderLength)
            throw Invalid($"The image is {data.Length} bytes long; its common header alone needs {HeaderLength}.",
                "Give a complete image file (it starts with 0xE9, or 0xEA for ESP8266 v2).");
        byte magic = data[0];
        if (magic != Magic && magic != MagicV2)
            throw Invalid($"The image starts with 0x{magic:X2}; an ESP image starts with 0xE9 (or 0xEA for ESP8266 v2).",
                "Check that the file is an application or bootloader image and not, e.g., an ELF file or a partition table.");

        ImageFormat format;
        if (magic == MagicV2)
        {
            if (chip is { IsEsp8266: false })
                throw Invalid($"The image starts with 0xEA (ESP8266 v2 layout) but the chip is {chip.Name}.",
                    "Build the image for this chip, or select --chip esp8266.");
            format = ImageFormat.Esp8266V2;
        }
        else if (chip is not null)
            format = chip.IsEsp8266 ? ImageFormat.Esp8266V1 : ImageFormat.Esp32;
        else
            format = LooksLikeEsp32(data) ? ImageFormat.Esp32 : ImageFormat.Esp8266V1;

        var image = new EspImage { Format = format };
        var r = new Reader(data);
        int firstCount;
        if (format == ImageFormat.Esp8266V2)
        {
            image.ReadCommonHeader(ref r, out int v2Count);
            image.V2HeaderSegmentCount = (byte)v2Count;
            if (v2Count != 4) image._warnings.Add($"The v2 header has segment count {v2Count} (usually 4).");
            var (mode, sizeFreq, entry) = (image.FlashMode, image.FlashSizeFrequency, image.Entry);
            var irom = ReadSegment(ref r, 0);
            image.IromSegment = irom;
            if (r.Remaining < HeaderLength)
                throw Invalid($"The ESP8266 v2 image ends at 0x{data.Length:X}, before the second header at 0x{r.Position:X}.",
                    "The file is truncated; rebuild it.");
            if (data[r.Position] != Magic)
                throw Invalid($"The second header of the ESP8266 v2 image at 0x{r.Position:X} starts with 0x{data[r.Position]:X2}, not 0xE9.",
                    "The IROM segment length is probably wrong; rebuild the image.");
            image.ReadCommonHeader(ref r, out firstCount);
            if (mode != image.FlashMode) image._warnings.Add("Flash mode in the first header disagrees with the second; using the second.");
            if (sizeFreq != image.FlashSizeFrequency) image._warnings.Add("Flash size/frequency in the first header disagrees with the second; using the second.");
            if (entry != image.Entry) image._warnings.Add("Entry point in the first header disagrees with the second; using the second.");
        }
        else
        {
            image.ReadCommonHeader(ref r, out firstCount);
        }

        if (format == ImageFormat.Esp32)
        {
            if (r.Remaining < ExtendedHeaderLength)
                throw Invalid($"The image is {data.Length} bytes long; the common and extended headers need {HeaderLength + ExtendedHeaderLength}.",
                    "Give a complete image file.");
            image.ReadExtendedHeader(ref r);
            if (chip?.ImageChipId is { } expected && expected != image.ChipId)
                image._warnings.Add($"The image's chip id is {image.ChipId} ({ChipDatabase.ByImageChipId(image.ChipId)?.Name ?? "unknown"}) but {chip.Name} has {expected}.");
        }
        else image.HashAppended = false;

        if (firstCount > MaxSegments)
            throw Invalid($"The header says the image has {firstCount} segments; at most {MaxSegments} are allowed.",
                "The file is probably not an ESP image, or its linker script produced too many sections.");

        for (int i = 0; i < firstCount; i++)
            image.Segments.Add(ReadSegment(ref r, i));

        // Checksum: the last byte of the 16-byte block that holds the end of the segments.
        int checksumPos = r.Position | 15;
        if (checksumPos >= data.Length)
            throw Invalid($"The image ends at 0x{data.Length:X}, before its checksum byte at 0x{checksumPos:X}.",
                "The file is truncated; rebuild it or copy it again.");
        image.StoredChecksum = data[checksumPos];
        image.DataLength = checksumPos + 1;
        image.ImageLength = image.DataLength;

        if (format == ImageFormat.Esp32 && image.HashAppended)
        {
            int available = data.Length - image.DataLength;
            if (available < 32)
                throw Invalid($"hash_appended is 1 but only {available} of the 32 SHA-256 bytes follow the checksum at 0x{checksumPos:X}.",
                    "The file is truncated; rebuild it or copy it again.");
            image.StoredSha256 = data.Slice(image.DataLength, 32).ToArray();
            image.ComputedSha256 = SHA256.HashData(data[..image.DataLength]);
            image.ImageLength += 32;
        }
        else if (format == ImageFormat.Esp8266V2 && data.Length - image.DataLength >= 4)
        {
            image.StoredCrc = BinaryPrimitives.ReadUInt32LittleEndian(data.Slice(image.DataLength, 4));
            image.ComputedCrc = Esp8266Crc(data[..image.DataLength]);
            image.ImageLength += 4;
        }
        return image;
    }

    /// <summary>Like <see cref="Parse"/> but returns false instead of throwing.</summary>
    public static bool TryParse(ReadOnlySpan<byte> data, ChipDefinition? chip, out EspImage? image)
    {
        try
        {
            image = Parse(data, chip);
            return true;
        }
        catch (EspException)
        {
            image = null;
            return false;
        }
    }

    private static bool LooksLikeEsp32(ReadOnlySpan<byte> data)
    {
        if (data.Length < HeaderLength + ExtendedHeaderLength) return false;
        ushort id = BinaryPrimitives.ReadUInt16LittleEndian(data[12..]);
        return data[23] <= 1 && ChipDatabase.ByImageChipId(id) is { IsEsp8266: false };
    }

    /// <summary>Throws <see cref="EspErrorCode.ImageChecksumMismatch"/> when the checksum, SHA-256 or CRC is wrong.</summary>
    public void Verify()
    {
        if (!ChecksumValid)
            throw new EspException(EspErrorCode.ImageChecksumMismatch,
                $"The image checksum is 0x{StoredChecksum:X2} but its segments give 0x{ComputedChecksum:X2}.");
        if (Sha256Valid == false)
            throw new EspException(EspErrorCode.ImageChecksumMismatch,
                $"The SHA-256 appended at 0x{DataLength:X} ({Convert.ToHexStringLower(StoredSha256!)}) does not match the image ({Convert.ToHexStringLower(ComputedSha256!)}).");
        if (CrcValid == false)
            throw new EspException(EspErrorCode.ImageChecksumMismatch,
                $"The ESP8266 v2 CRC is 0x{StoredCrc:X8} but the image gives 0x{ComputedCrc:X8}.");
    }

    private void ReadCommonHeader(ref Reader r, out int segmentCount)
    {
        var h = r.Take(HeaderLength, "common header");
        segmentCount = h[1];
        FlashMode = (FlashMode)h[2];
        FlashSizeCode = (byte)(h[3] & 0xF0);
        FlashFrequencyCode = (byte)(h[3] & 0x0F);
        Entry = BinaryPrimitives.ReadUInt32LittleEndian(h[4..]);
    }

    private void ReadExtendedHeader(ref Reader r)
    {
        var h = r.Take(ExtendedHeaderLength, "extended header");
        WpPin = h[0];
        (ClkDrive, QDrive) = Split(h[1]);
        (DDrive, CsDrive) = Split(h[2]);
        (HdDrive, WpDrive) = Split(h[3]);
        ChipId = BinaryPrimitives.ReadUInt16LittleEndian(h[4..]);
        MinRev = h[6];
        MinRevFull = BinaryPrimitives.ReadUInt16LittleEndian(h[7..]);
        MaxRevFull = BinaryPrimitives.ReadUInt16LittleEndian(h[9..]);
        Reserved = BinaryPrimitives.ReadUInt32LittleEndian(h[11..]);
        HashAppended = h[15] switch
        {
            0 => false,
            1 => true,
            var v => throw Invalid($"The extended header's hash_appended byte (offset 0x17) is 0x{v:X2}; only 0 and 1 are valid.",
                "The file is probably not an image for an ESP32-family chip; check --chip."),
        };

        static (byte, byte) Split(byte b) => ((byte)(b & 0x0F), (byte)(b >> 4));
    }

    private static ImageSegment ReadSegment(ref Reader r, int index)
    {
        int offset = r.Position;
        if (r.Remaining < SegmentHeaderLength)
            throw Invalid($"Segment {index} header at offset 0x{offset:X} needs 8 bytes but only 0x{r.Remaining:X} remain.",
                "The file is truncated, or the header's segment count is wrong; rebuild the image.");
        var h = r.Take(SegmentHeaderLength, "segment header");
        uint address = BinaryPrimitives.ReadUInt32LittleEndian(h);
        uint length = BinaryPrimitives.ReadUInt32LittleEndian(h[4..]);
        if (length > (uint)r.Remaining)
            throw Invalid($"Segment {index} at offset 0x{offset:X} claims 0x{length:X} bytes but only 0x{r.Remaining:X} remain.",
                "The file is truncated or not an ESP image; rebuild it or copy it again.");
        var data = r.Take((int)length, "segment data").ToArray();
        return new ImageSegment(address, data, offset);
    }

    /// <summary>CRC-32 as the ESP8266 SDK bootloader checks it: standard CRC-32, inverted if its top bit is set, else plus one.</summary>
    public static uint Esp8266Crc(ReadOnlySpan<byte> data)
    {
        uint crc = Crc32.Compute(data);
        return (crc & 0x80000000) != 0 ? crc ^ 0xFFFFFFFF : crc + 1;
    }

    internal static EspException Invalid(string message, string? help = null) =>
        new(EspErrorCode.InvalidImage, message, help);

    private ref struct Reader(ReadOnlySpan<byte> data)
    {
        private readonly ReadOnlySpan<byte> _data = data;
        public int Position { get; private set; }
        public readonly int Remaining => _data.Length - Position;

        public ReadOnlySpan<byte> Take(int count, string what)
        {
            if (count > Remaining)
                throw Invalid($"The {what} at offset 0x{Position:X} needs 0x{count:X} bytes but only 0x{Remaining:X} remain.",
                    "The file is truncated; rebuild it or copy it again.");
            var s = _data.Slice(Position, count);
            Position += count;
            return s;
        }
    }
}
