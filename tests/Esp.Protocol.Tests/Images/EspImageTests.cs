using System.Buffers.Binary;
using System.Security.Cryptography;
using Esp.Protocol.Chips;
using Esp.Protocol.Errors;
using Esp.Protocol.Images;

namespace Esp.Protocol.Tests.Images;

public class EspImageTests
{
    internal static EspImage Sample(ChipDefinition chip, bool hash = true)
    {
        var img = EspImage.Create(chip);
        img.Entry = 0x40080400;
        img.FlashMode = FlashMode.Dio;
        img.FlashSizeCode = 0x20;
        img.FlashFrequencyCode = 0x0;
        img.HashAppended = hash && !chip.IsEsp8266;
        img.MinRevFull = 100;
        img.MaxRevFull = 399;
        img.Segments.Add(new ImageSegment(0x3FFB0000, Enumerable.Range(0, 20).Select(i => (byte)i).ToArray()));
        img.Segments.Add(new ImageSegment(0x40080000, Enumerable.Range(0, 36).Select(i => (byte)(i * 7)).ToArray()));
        return img;
    }

    private static EspException Throws(Action a, EspErrorCode code)
    {
        var ex = Assert.Throws<EspException>(a);
        Assert.Equal(code, ex.Code);
        return ex;
    }

    [Fact]
    public void BuildsEsp32LayoutByteForByte()
    {
        var bytes = Sample(ChipDatabase.Esp32).ToBytes();
        Assert.Equal(0xE9, bytes[0]);
        Assert.Equal(2, bytes[1]);
        Assert.Equal(0x02, bytes[2]);
        Assert.Equal(0x20, bytes[3]);
        Assert.Equal(0x40080400u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(4)));
        Assert.Equal(0xEE, bytes[8]);
        Assert.Equal(0, BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(12)));
        Assert.Equal(100, BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(15)));
        Assert.Equal(399, BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(17)));
        Assert.Equal(1, bytes[23]);
        // 24 header + (8+20) + (8+36) = 96 → checksum at 111, file 112 + 32 hash.
        Assert.Equal(144, bytes.Length);
        Assert.Equal(15, (bytes.Length - 32 - 1) % 16);
        byte expected = 0xEF;
        foreach (var b in bytes.AsSpan(32, 20)) expected ^= b;
        foreach (var b in bytes.AsSpan(60, 36)) expected ^= b;
        Assert.Equal(expected, bytes[111]);
        Assert.Equal(SHA256.HashData(bytes.AsSpan(0, 112)), bytes[112..]);
    }

    [Fact]
    public void ParsesWhatItBuilds()
    {
        var bytes = Sample(ChipDatabase.Esp32C3).ToBytes();
        var img = EspImage.Parse(bytes, ChipDatabase.Esp32C3);
        Assert.Equal(ImageFormat.Esp32, img.Format);
        Assert.Equal(5, img.ChipId);
        Assert.Equal(2, img.Segments.Count);
        Assert.Equal(24, img.Segments[0].FileOffset);
        Assert.Equal(0x40080000u, img.Segments[1].Address);
        Assert.True(img.ChecksumValid);
        Assert.True(img.Sha256Valid);
        Assert.Equal(bytes.Length, img.ImageLength);
        Assert.Equal(bytes.Length - 32, img.DataLength);
        Assert.Equal("4MB", img.FlashSizeName(ChipDatabase.Esp32C3));
        Assert.Equal("40m", img.FlashFrequencyName(ChipDatabase.Esp32C3));
        Assert.Empty(img.Warnings);
        Assert.Equal(bytes, img.ToBytes());
        img.Verify();
    }

    [Fact]
    public void GuessesLayoutWithoutChip()
    {
        Assert.Equal(ImageFormat.Esp32, EspImage.Parse(Sample(ChipDatabase.Esp32S3).ToBytes()).Format);
        Assert.Equal(ImageFormat.Esp8266V1, EspImage.Parse(Sample(ChipDatabase.Esp8266).ToBytes()).Format);
    }

    [Fact]
    public void WarnsOnChipIdMismatch()
    {
        var img = EspImage.Parse(Sample(ChipDatabase.Esp32).ToBytes(), ChipDatabase.Esp32C3);
        Assert.Contains(img.Warnings, w => w.Contains("chip id is 0"));
    }

    [Fact]
    public void Esp8266V1RoundTrip()
    {
        var src = Sample(ChipDatabase.Esp8266);
        var bytes = src.ToBytes();
        Assert.Equal(96, bytes.Length); // 80 bytes of headers+segments, checksum at 95
        var img = EspImage.Parse(bytes, ChipDatabase.Esp8266);
        Assert.Equal(ImageFormat.Esp8266V1, img.Format);
        Assert.False(img.HashAppended);
        Assert.Equal(8, img.Segments[0].FileOffset);
        Assert.True(img.ChecksumValid);
        Assert.Null(img.Sha256Valid);
        Assert.Equal(bytes, img.ToBytes());
    }

    [Fact]
    public void Esp8266V2RoundTripWithCrc()
    {
        var src = EspImage.Create(ChipDatabase.Esp8266, ImageFormat.Esp8266V2);
        src.Entry = 0x40100004;
        src.IromSegment = new ImageSegment(0x40201010, new byte[40]);
        src.Segments.Add(new ImageSegment(0x40100000, [1, 2, 3, 4]));
        var bytes = src.ToBytes();
        Assert.Equal(0xEA, bytes[0]);
        Assert.Equal(4, bytes[1]);
        Assert.Equal(0u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(8)));
        Assert.Equal(48u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(12))); // padded to 16
        Assert.Equal(0xE9, bytes[16 + 48]);
        var img = EspImage.Parse(bytes);
        Assert.Equal(ImageFormat.Esp8266V2, img.Format);
        Assert.True(img.CrcValid);
        Assert.True(img.ChecksumValid);
        Assert.Equal(48, img.IromSegment!.Length);
        Assert.Equal(bytes, img.ToBytes());
        bytes[^1] ^= 0x55;
        var bad = EspImage.Parse(bytes);
        Assert.False(bad.CrcValid);
        Throws(bad.Verify, EspErrorCode.ImageChecksumMismatch);
    }

    [Fact]
    public void Esp8266CrcFollowsSdkRule()
    {
        // crc32("123456789") = 0xCBF43926, top bit set → inverted.
        Assert.Equal(0xCBF43926u ^ 0xFFFFFFFF, EspImage.Esp8266Crc("123456789"u8));
        // crc32("a") = 0xE8B7BE43 → inverted; crc32("abc") = 0x352441C2 → plus one.
        Assert.Equal(0x352441C3u, EspImage.Esp8266Crc("abc"u8));
    }

    [Fact]
    public void BadChecksumIsReportedNotThrown()
    {
        var bytes = Sample(ChipDatabase.Esp32, hash: false).ToBytes();
        bytes[40] ^= 1; // inside segment 0 data
        var img = EspImage.Parse(bytes, ChipDatabase.Esp32);
        Assert.False(img.ChecksumValid);
        var ex = Throws(img.Verify, EspErrorCode.ImageChecksumMismatch);
        Assert.Contains("checksum", ex.Message);
    }

    [Fact]
    public void BadShaIsReported()
    {
        var bytes = Sample(ChipDatabase.Esp32).ToBytes();
        bytes[^1] ^= 1;
        var img = EspImage.Parse(bytes, ChipDatabase.Esp32);
        Assert.True(img.ChecksumValid);
        Assert.False(img.Sha256Valid);
        Throws(img.Verify, EspErrorCode.ImageChecksumMismatch);
        Assert.Contains("invalid", ImageInfo.Describe(img, ChipDatabase.Esp32));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(8)]
    [InlineData(23)]
    [InlineData(30)]
    [InlineData(100)]
    [InlineData(111)]
    [InlineData(120)]
    public void TruncatedImagesThrowInvalidImage(int length)
    {
        var bytes = Sample(ChipDatabase.Esp32).ToBytes();
        Throws(() => EspImage.Parse(bytes.AsSpan(0, length), ChipDatabase.Esp32), EspErrorCode.InvalidImage);
    }

    [Fact]
    public void SegmentLengthPastEndNamesOffsetAndSizes()
    {
        var bytes = Sample(ChipDatabase.Esp32).ToBytes();
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(52 + 4), 0x20000); // segment 1 length
        var ex = Throws(() => EspImage.Parse(bytes, ChipDatabase.Esp32), EspErrorCode.InvalidImage);
        Assert.Contains("Segment 1 at offset 0x34 claims 0x20000 bytes but only 0x", ex.Message);
    }

    [Fact]
    public void HugeSegmentLengthDoesNotAllocate()
    {
        var bytes = Sample(ChipDatabase.Esp32).ToBytes();
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(24 + 4), 0xFFFFFFFF);
        Throws(() => EspImage.Parse(bytes, ChipDatabase.Esp32), EspErrorCode.InvalidImage);
    }

    [Fact]
    public void BadMagicThrows()
    {
        var bytes = Sample(ChipDatabase.Esp32).ToBytes();
        bytes[0] = 0x7F;
        var ex = Throws(() => EspImage.Parse(bytes), EspErrorCode.InvalidImage);
        Assert.Contains("0x7F", ex.Message);
    }

    [Fact]
    public void V2MagicRejectedForEsp32()
    {
        var bytes = Sample(ChipDatabase.Esp32).ToBytes();
        bytes[0] = 0xEA;
        Throws(() => EspImage.Parse(bytes, ChipDatabase.Esp32), EspErrorCode.InvalidImage);
    }

    [Fact]
    public void TooManySegmentsThrows()
    {
        var bytes = Sample(ChipDatabase.Esp32).ToBytes();
        bytes[1] = 17;
        Throws(() => EspImage.Parse(bytes, ChipDatabase.Esp32), EspErrorCode.InvalidImage);
        var img = Sample(ChipDatabase.Esp32);
        for (int i = 0; i < 15; i++) img.Segments.Add(new ImageSegment(0x3FFB1000, new byte[4]));
        Throws(() => img.ToBytes(), EspErrorCode.InvalidImage);
    }

    [Fact]
    public void HashAppendedOtherThanZeroOrOneThrows()
    {
        var bytes = Sample(ChipDatabase.Esp32).ToBytes();
        bytes[23] = 2;
        var ex = Throws(() => EspImage.Parse(bytes, ChipDatabase.Esp32), EspErrorCode.InvalidImage);
        Assert.Contains("hash_appended", ex.Message);
    }

    [Fact]
    public void UnalignedSegmentCannotBeWritten()
    {
        var img = Sample(ChipDatabase.Esp32);
        img.Segments.Add(new ImageSegment(0x3FFB2000, new byte[3]));
        var ex = Throws(() => img.ToBytes(), EspErrorCode.InvalidImage);
        Assert.Contains("multiples of 4", ex.Message);
    }

    [Fact]
    public void TrailingDataIsIgnored()
    {
        var bytes = Sample(ChipDatabase.Esp32).ToBytes();
        var merged = bytes.Concat(Enumerable.Repeat((byte)0xFF, 100)).ToArray();
        var img = EspImage.Parse(merged, ChipDatabase.Esp32);
        Assert.Equal(bytes.Length, img.ImageLength);
        Assert.True(img.Sha256Valid);
    }

    [Fact]
    public void ExtendedHeaderFieldsRoundTrip()
    {
        var img = Sample(ChipDatabase.Esp32S2);
        (img.WpPin, img.ClkDrive, img.QDrive, img.DDrive, img.CsDrive, img.HdDrive, img.WpDrive) = (6, 1, 2, 3, 4, 5, 15);
        img.MinRev = 3;
        var bytes = img.ToBytes();
        Assert.Equal(0x21, bytes[9]);
        Assert.Equal(0x43, bytes[10]);
        Assert.Equal(0xF5, bytes[11]);
        var p = EspImage.Parse(bytes, ChipDatabase.Esp32S2);
        Assert.Equal((6, 1, 2, 3, 4, 5, 15), ((int)p.WpPin, (int)p.ClkDrive, (int)p.QDrive, (int)p.DDrive, (int)p.CsDrive, (int)p.HdDrive, (int)p.WpDrive));
        Assert.Equal(3, p.MinRev);
        Assert.Equal(2, p.ChipId);
    }

    [Fact]
    public void DescribeListsHeaderSegmentsAndFooter()
    {
        var img = EspImage.Parse(Sample(ChipDatabase.Esp32).ToBytes(), ChipDatabase.Esp32);
        var text = ImageInfo.Describe(img, ChipDatabase.Esp32);
        Assert.Contains("Entry point: 0x40080400", text);
        Assert.Contains("Flash size: 4MB", text);
        Assert.Contains("Flash freq: 40m", text);
        Assert.Contains("Flash mode: DIO", text);
        Assert.Contains("Chip ID: 0 (ESP32)", text);
        Assert.Contains("Minimal chip revision: v1.0", text);
        Assert.Contains("Maximal chip revision: v3.99", text);
        Assert.Contains("DRAM", text);
        Assert.Contains("IRAM", text);
        Assert.Contains("(valid)", text);
        Assert.DoesNotContain("invalid", text);
        // Chip taken from the image when not given.
        Assert.Contains("ESP32 Image Header", ImageInfo.Describe(img));
    }

    [Fact]
    public void PropertyRandomImagesRoundTrip()
    {
        var rng = new Random(20240611);
        var chips = ChipDatabase.All;
        for (int n = 0; n < 300; n++)
        {
            var chip = chips[rng.Next(chips.Count)];
            var format = chip.IsEsp8266 ? (rng.Next(2) == 0 ? ImageFormat.Esp8266V1 : ImageFormat.Esp8266V2) : ImageFormat.Esp32;
            var img = EspImage.Create(chip, format);
            img.Entry = (uint)rng.NextInt64(0, uint.MaxValue);
            img.FlashMode = (FlashMode)rng.Next(4);
            img.FlashSizeCode = (byte)(rng.Next(8) << 4);
            img.FlashFrequencyCode = (byte)rng.Next(16);
            img.HashAppended = rng.Next(2) == 0;
            img.MinRevFull = (ushort)rng.Next(0, 400);
            img.MaxRevFull = (ushort)rng.Next(0, 0x10000);
            int count = rng.Next(0, EspImage.MaxSegments + 1);
            for (int i = 0; i < count; i++)
            {
                var data = new byte[rng.Next(0, 64) * 4];
                rng.NextBytes(data);
                img.Segments.Add(new ImageSegment((uint)rng.NextInt64(0, uint.MaxValue), data));
            }
            if (format == ImageFormat.Esp8266V2)
            {
                var irom = new byte[rng.Next(0, 40) * 4];
                rng.NextBytes(irom);
                img.IromSegment = new ImageSegment(0, irom);
            }
            var bytes = img.ToBytes();
            var parsed = EspImage.Parse(bytes, chip);
            Assert.Equal(format, parsed.Format);
            Assert.True(parsed.ChecksumValid);
            Assert.NotEqual(false, parsed.Sha256Valid);
            Assert.NotEqual(false, parsed.CrcValid);
            Assert.Equal(count, parsed.Segments.Count);
            Assert.Equal(bytes, parsed.ToBytes());
            if (format != ImageFormat.Esp8266V2) Assert.Equal(15, (parsed.DataLength - 1) % 16);

            // Any single corruption or truncation either parses or throws EspException — nothing else.
            var broken = (byte[])bytes.Clone();
            broken[rng.Next(broken.Length)] = (byte)rng.Next(256);
            var cut = broken.AsSpan(0, rng.Next(broken.Length + 1)).ToArray();
            try { EspImage.Parse(cut, rng.Next(2) == 0 ? chip : null); } catch (EspException) { }
        }
    }
}
