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
}
