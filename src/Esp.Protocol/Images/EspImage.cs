using System.Buffers.Binary;
using System.Security.Cryptography;
using Esp.Protocol.Chips;
using Esp.Protocol.Commands;
using Esp.Protocol.Errors;

namespace Esp.Protocol.Images;

/// <summary>Layout of an ESP image file.</summary>
public enum ImageFormat
{
    /// <summary>ESP32 and later: magic 0xE9, 16-byte extended header, optional appended SHA-256.</summary>
    Esp32,
    /// <summary>ESP8266 "version 1": magic 0xE9, no extended header; the IROM segment lives in a separate file.</summary>
    Esp8266V1,
    /// <summary>ESP8266 "version 2": magic 0xEA header, IROM segment, then a 0xE9 image, then a CRC-32.</summary>
    Esp8266V2,
}

/// <summary>SPI flash mode, byte 2 of the image header.</summary>
public enum FlashMode : byte
{
    /// <summary>Quad I/O.</summary>
    Qio = 0,
    /// <summary>Quad output.</summary>
    Qout = 1,
    /// <summary>Dual I/O.</summary>
    Dio = 2,
    /// <summary>Dual output.</summary>
    Dout = 3,
}

/// <summary>
/// An ESP firmware image (esptool's <c>bin_image.py</c> formats): the ESP32-family layout with the extended header, or one of the two
/// ESP8266 layouts. <see cref="Parse"/> reads one defensively (only <see cref="EspException"/> escapes);
/// <see cref="ToBytes"/> writes one, recomputing checksum, SHA-256 and CRC.
/// </summary>
public sealed partial class EspImage
{
    /// <summary>First byte of an ESP32 or ESP8266 v1 image (and of the second header of a v2 image).</summary>
    public const byte Magic = 0xE9;
    /// <summary>First byte of an ESP8266 v2 image.</summary>
    public const byte MagicV2 = 0xEA;
    /// <summary>Most segments esptool accepts in one image.</summary>
    public const int MaxSegments = 16;
    /// <summary>Length of the common header.</summary>
    public const int HeaderLength = 8;
    /// <summary>Length of the ESP32 extended header.</summary>
    public const int ExtendedHeaderLength = 16;
    /// <summary>Length of a segment header.</summary>
    public const int SegmentHeaderLength = 8;
    /// <summary>WP pin value meaning "not used".</summary>
    public const byte WpPinDisabled = 0xEE;
    /// <summary>Segments must stay below this length (esptool's 16 MiB limit).</summary>
    public const int MaxSegmentLength = 0x1000000;
    /// <summary>Start of the ESP8266 flash-mapped IROM window.</summary>
    public const uint Esp8266IromMapStart = 0x40200000;

    private readonly List<string> _warnings = [];

    /// <summary>Creates an empty ESP32-family image (no segments, WP pin disabled, no revision limit).</summary>
    public EspImage() { }

    /// <summary>Creates an empty image for <paramref name="chip"/>: ESP8266 → v1, others → ESP32 layout with its chip id.</summary>
    public static EspImage Create(ChipDefinition chip, ImageFormat? format = null)
    {
        ArgumentNullException.ThrowIfNull(chip);
        var f = format ?? (chip.IsEsp8266 ? ImageFormat.Esp8266V1 : ImageFormat.Esp32);
        if (chip.IsEsp8266 != (f != ImageFormat.Esp32))
            throw new EspException(EspErrorCode.InvalidArgument,
                $"Image format {f} does not fit {chip.Name}.",
                "Use Esp8266V1/Esp8266V2 for the ESP8266 and Esp32 for every other chip.");
        return new EspImage { Format = f, ChipId = chip.ImageChipId ?? 0 };
    }

    /// <summary>The layout.</summary>
    public ImageFormat Format { get; set; } = ImageFormat.Esp32;

    /// <summary>Flash mode (byte 2). Values other than the four named ones are kept as they are.</summary>
    public FlashMode FlashMode { get; set; } = FlashMode.Dio;

    /// <summary>Flash size code: the high nibble of byte 3, as a full byte (0x00, 0x10, …, 0xF0).</summary>
    public byte FlashSizeCode { get; set; }

    /// <summary>Flash frequency code: the low nibble of byte 3 (0x0–0xF).</summary>
    public byte FlashFrequencyCode { get; set; }

    /// <summary>Byte 3 of the header as stored: size code | frequency code.</summary>
    public byte FlashSizeFrequency => (byte)((FlashSizeCode & 0xF0) | (FlashFrequencyCode & 0x0F));

    /// <summary>Entry point address.</summary>
    public uint Entry { get; set; }

    /// <summary>Extended header: SPI WP pin (0xEE = not used).</summary>
    public byte WpPin { get; set; } = WpPinDisabled;
    /// <summary>Extended header: CLK pin drive strength (0–15).</summary>
    public byte ClkDrive { get; set; }
    /// <summary>Extended header: Q pin drive strength (0–15).</summary>
    public byte QDrive { get; set; }
    /// <summary>Extended header: D pin drive strength (0–15).</summary>
    public byte DDrive { get; set; }
    /// <summary>Extended header: CS pin drive strength (0–15).</summary>
    public byte CsDrive { get; set; }
    /// <summary>Extended header: HD pin drive strength (0–15).</summary>
    public byte HdDrive { get; set; }
    /// <summary>Extended header: WP pin drive strength (0–15).</summary>
    public byte WpDrive { get; set; }
    /// <summary>Extended header: chip id (<see cref="Chips.ChipDefinition.ImageChipId"/> of the chip the image is built for).</summary>
    public ushort ChipId { get; set; }
    /// <summary>Extended header: legacy minimum revision (major only).</summary>
    public byte MinRev { get; set; }
    /// <summary>Extended header: minimum revision as major·100 + minor.</summary>
    public ushort MinRevFull { get; set; }
    /// <summary>Extended header: maximum revision as major·100 + minor (0xFFFF = no limit).</summary>
    public ushort MaxRevFull { get; set; } = 0xFFFF;
    /// <summary>Extended header bytes 11–14, reserved (kept as read so that a parsed image writes back identically).</summary>
    public uint Reserved { get; set; }
    /// <summary>Extended header byte 15: whether a SHA-256 of the image follows the checksum.</summary>
    public bool HashAppended { get; set; } = true;

    /// <summary>The segments, in file order (for v2 images: the segments after the second header).</summary>
    public List<ImageSegment> Segments { get; } = [];

    /// <summary>
    /// ESP8266 only: the flash-mapped IROM segment. In a v2 image it sits between the two headers (stored with load
    /// address 0, padded to 16 bytes) and is not covered by the checksum. In a v1 image it is not part of the file:
    /// flash it separately at <see cref="Esp8266IromFlashOffset"/>.
    /// </summary>
    public ImageSegment? IromSegment { get; set; }

    /// <summary>ESP8266 v1: flash offset of <see cref="IromSegment"/> (its address − 0x40200000), or null.</summary>
    public uint? Esp8266IromFlashOffset =>
        IromSegment is { Address: >= Esp8266IromMapStart } s ? s.Address - Esp8266IromMapStart : null;

    /// <summary>ESP8266 v2: the "segment count" byte of the first header (normally 4).</summary>
    public byte V2HeaderSegmentCount { get; set; } = 4;

    /// <summary>Checksum byte found in the parsed file (null for images built in memory).</summary>
    public byte? StoredChecksum { get; private set; }

    /// <summary>0xEF XOR every data byte of every checksummed segment.</summary>
    public byte ComputedChecksum
    {
        get
        {
            byte c = ProtocolConstants.ChecksumSeed;
            foreach (var s in Segments) c = ProtocolConstants.Checksum(s.Data, c);
            return c;
        }
    }

    /// <summary>True when the stored checksum equals the computed one (true for images built in memory).</summary>
    public bool ChecksumValid => StoredChecksum is not { } c || c == ComputedChecksum;

    /// <summary>SHA-256 found after the checksum (null when none is appended or the image was built in memory).</summary>
    public byte[]? StoredSha256 { get; private set; }

    /// <summary>SHA-256 of the parsed bytes from the start through the checksum (null when not parsed with a hash).</summary>
    public byte[]? ComputedSha256 { get; private set; }

    /// <summary>Whether the appended SHA-256 matches: null when the image has none to check.</summary>
    public bool? Sha256Valid =>
        StoredSha256 is null || ComputedSha256 is null ? null : StoredSha256.AsSpan().SequenceEqual(ComputedSha256);

    /// <summary>ESP8266 v2: the CRC-32 word after the checksum, when present.</summary>
    public uint? StoredCrc { get; private set; }

    /// <summary>ESP8266 v2: the CRC-32 computed over the parsed bytes before the CRC word.</summary>
    public uint? ComputedCrc { get; private set; }

    /// <summary>ESP8266 v2: whether the CRC matches; null when there is none to check.</summary>
    public bool? CrcValid => StoredCrc is { } s && ComputedCrc is { } c ? s == c : null;

    /// <summary>Parsed images: bytes from the start through the checksum byte.</summary>
    public int DataLength { get; private set; }

    /// <summary>Parsed images: bytes the image occupies including an appended SHA-256 or CRC.</summary>
    public int ImageLength { get; private set; }

    /// <summary>Things that look wrong but do not stop the image from being used (as esptool warns).</summary>
    public IReadOnlyList<string> Warnings => _warnings;

    /// <summary>Looks up the flash size name for <see cref="FlashSizeCode"/> in the chip's table, or null.</summary>
    public string? FlashSizeName(ChipDefinition chip) => NameOf(chip.FlashSizes, FlashSizeCode);

    /// <summary>Looks up the flash frequency name for <see cref="FlashFrequencyCode"/> in the chip's table, or null.</summary>
    public string? FlashFrequencyName(ChipDefinition chip) => NameOf(chip.FlashFrequencies, FlashFrequencyCode);

    private static string? NameOf(IReadOnlyDictionary<string, byte> table, byte code) =>
        table.Where(kv => kv.Value == code).Select(kv => kv.Key).FirstOrDefault();

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

/// <summary>Standard (IEEE 802.3, reflected) CRC-32.</summary>
internal static class Crc32
{
    private static readonly uint[] Table = BuildTable();

    private static uint[] BuildTable()
    {
        var t = new uint[256];
        for (uint i = 0; i < 256; i++)
        {
            uint c = i;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320 ^ (c >> 1) : c >> 1;
            t[i] = c;
        }
        return t;
    }

    public static uint Compute(ReadOnlySpan<byte> data)
    {
        uint c = 0xFFFFFFFF;
        foreach (byte b in data) c = Table[(c ^ b) & 0xFF] ^ (c >> 8);
        return c ^ 0xFFFFFFFF;
    }
}
