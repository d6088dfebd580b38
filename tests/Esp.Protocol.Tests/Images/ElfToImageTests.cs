using System.Buffers.Binary;
using System.Security.Cryptography;
using Esp.Protocol.Chips;
using Esp.Protocol.Errors;
using Esp.Protocol.Images;

namespace Esp.Protocol.Tests.Images;

public class ElfToImageTests
{
    private static byte[] Bytes(int n, int seed = 1)
    {
        var b = new byte[n];
        new Random(seed).NextBytes(b);
        return b;
    }

    private static EspException Bad(byte[] elf, EspErrorCode code = EspErrorCode.InvalidElf)
    {
        var ex = Assert.Throws<EspException>(() => ElfToImage.Convert(elf, ChipDatabase.Esp32));
        Assert.Equal(code, ex.Code);
        return ex;
    }

    private static ElfWriter Esp32App() => new ElfWriter { Entry = 0x40080404 }
        .Add(".flash.rodata", 0x3F400020, Bytes(0x300, 2), ElfWriter.ShfAlloc)
        .Add(".iram0.vectors", 0x40080000, Bytes(0x400, 3))
        .Add(".iram0.text", 0x40080400, Bytes(0x1FE, 4))      // touches .iram0.vectors → merged, padded to 4
        .Add(".dram0.data", 0x3FFB0000, Bytes(0x2000, 5), ElfWriter.ShfAlloc | ElfWriter.ShfWrite)
        .AddBss(".dram0.bss", 0x3FFB2000, 0x1000)
        .Add(".flash.text", 0x400D0020, Bytes(0x800, 6));

    private static void AssertFlashAlignment(EspImage img, ChipDefinition chip, uint page)
    {
        foreach (var s in img.Segments)
        {
            var kind = chip.RegionAt(s.Address)?.Kind;
            if (kind is MemoryKind.FlashCode or MemoryKind.FlashData)
                Assert.Equal(s.Address % page, (uint)(s.FileOffset + 8) % page);
        }
    }

    [Fact]
    public void Esp32AppIsLaidOutLikeEsptool()
    {
        var elf = Esp32App().Build();
        var img = ElfToImage.Convert(elf, ChipDatabase.Esp32, new ElfToImageOptions { FlashMode = "dio", FlashFrequency = "40m", FlashSize = "4MB", MinRevFull = 300 });
        Assert.Equal(0x40080404u, img.Entry);
        Assert.Equal(FlashMode.Dio, img.FlashMode);
        Assert.Equal(0x20, img.FlashSizeCode);
        Assert.Equal((ushort)0, img.ChipId);
        Assert.Equal((ushort)300, img.MinRevFull);
        Assert.True(img.HashAppended);
        // No .bss, iram sections merged (0x400 + 0x200).
        Assert.DoesNotContain(img.Segments, s => s.Address == 0x3FFB2000);
        Assert.Contains(img.Segments, s => s.Address == 0x40080000 && s.Length >= 0x600);
        // DROM first (already aligned at 0x18+8 = 0x20), then RAM slices fill the gap before IROM.
        Assert.Equal(0x3F400020u, img.Segments[0].Address);
        Assert.Equal(24, img.Segments[0].FileOffset);
        AssertFlashAlignment(img, ChipDatabase.Esp32, 0x10000);
        var bytes = img.ToBytes();
        var parsed = EspImage.Parse(bytes, ChipDatabase.Esp32);
        Assert.True(parsed.ChecksumValid);
        Assert.True(parsed.Sha256Valid);
        Assert.Equal(img.Segments.Select(s => (s.Address, s.FileOffset, s.Length)), parsed.Segments.Select(s => (s.Address, s.FileOffset, s.Length)));
        Assert.Equal(bytes, parsed.ToBytes());
        // All RAM data is present exactly once, in order, even though it was split.
        var dram = parsed.Segments.Where(s => s.Address is >= 0x3FFB0000 and < 0x3FFB2000).OrderBy(s => s.Address).SelectMany(s => s.Data).ToArray();
        Assert.Equal(Bytes(0x2000, 5), dram);
    }

    [Fact]
    public void ZeroPaddingWhenNoRamIsLeft()
    {
        var elf = new ElfWriter { Machine = 0xF3, Entry = 0x42000020 }
            .Add(".flash.text", 0x42000020, Bytes(0x100))
            .Add(".flash.rodata", 0x3C010020, Bytes(0x100), ElfWriter.ShfAlloc)
            .Build();
        var img = ElfToImage.Convert(elf, ChipDatabase.Esp32C3, new ElfToImageOptions { AppendSha256 = false });
        Assert.Contains(img.Segments, s => s.IsPadding);
        AssertFlashAlignment(img, ChipDatabase.Esp32C3, 0x10000);
        Assert.Equal((ushort)5, img.ChipId);
        Assert.False(img.HashAppended);
        Assert.Equal(0x0, img.FlashFrequencyCode); // 40m default
        var parsed = EspImage.Parse(img.ToBytes(), ChipDatabase.Esp32C3);
        Assert.Null(parsed.Sha256Valid);
        Assert.Contains("PADDING", ImageInfo.Describe(parsed, ChipDatabase.Esp32C3));
    }

    [Fact]
    public void ConfigurableMmuPageSize()
    {
        var elf = new ElfWriter { Machine = 0xF3 }
            .Add(".flash.text", 0x42002020, Bytes(0x40))
            .Add(".data", 0x40810000, Bytes(0x3000), ElfWriter.ShfAlloc | ElfWriter.ShfWrite)
            .Build();
        var img = ElfToImage.Convert(elf, ChipDatabase.Esp32C6, new ElfToImageOptions { MmuPageSize = 0x2000 });
        AssertFlashAlignment(img, ChipDatabase.Esp32C6, 0x2000);
        Assert.Equal(EspErrorCode.InvalidArgument, Assert.Throws<EspException>(() =>
            ElfToImage.Convert(elf, ChipDatabase.Esp32C6, new ElfToImageOptions { MmuPageSize = 0x3000 })).Code);
    }

    [Fact]
    public void PaddingArithmeticMatchesEsptool()
    {
        Assert.Equal(-1, ElfToImage.PaddingNeeded(24, 0x3F400020, 0x10000));
        // Data of the next segment must start at ≡ 0x20; from position 0x100 a padding segment (8 + n) then the
        // segment header (8) must end at 0x10020 → n = 0xFF10.
        Assert.Equal(0xFF10, ElfToImage.PaddingNeeded(0x100, 0x400D0020, 0x10000));
        Assert.Equal(0x10000, ElfToImage.PaddingNeeded(0x10, 0x400D0020, 0x10000)); // esptool pads a whole page here
        Assert.Equal(0, ElfToImage.PaddingNeeded(0xFFF0, 0x400D0000, 0x10000)); // header alone fills the gap (esptool asserts)
        Assert.Equal(0x10000 - 0x28, ElfToImage.PaddingNeeded(24, 0x42010000, 0x10000)); // target at page start
        Assert.Equal(0x10000 + 0xD8, ElfToImage.PaddingNeeded(24, 0x400D0100, 0x10000)); // esptool's over-a-page case
    }

    [Fact]
    public void Esp32LastPageQuirkLengthensShortTail()
    {
        // Flash segment whose end lands 0x10 bytes past a page boundary is lengthened to 0x24 past it.
        var elf = new ElfWriter().Add(".flash.rodata", 0x3F400020, new byte[0x10000 - 0x20 + 0x10], ElfWriter.ShfAlloc).Build();
        var img = ElfToImage.Convert(elf, ChipDatabase.Esp32);
        var s = img.Segments[0];
        Assert.Equal(0x24, (s.FileOffset + 8 + s.Length) % 0x10000);
        var c3 = ElfToImage.Convert(new ElfWriter { Machine = 0xF3 }.Add(".flash.rodata", 0x3C000020, new byte[0x10000 - 0x20 + 0x10], ElfWriter.ShfAlloc).Build(), ChipDatabase.Esp32C3);
        Assert.Equal(0x10, (c3.Segments[0].FileOffset + 8 + c3.Segments[0].Length) % 0x10000);
    }

    [Fact]
    public void AppDescGoesFirstAndGetsElfSha()
    {
        var appdesc = new byte[0x100];
        var writer = new ElfWriter { Machine = 0xF3 }
            .Add(".flash.text", 0x42000020, Bytes(0x40))
            .Add(".flash.appdesc", 0x42800020, appdesc, ElfWriter.ShfAlloc)
            .Add(".flash.rodata", 0x42810000, Bytes(0x40), ElfWriter.ShfAlloc);
        var elf = writer.Build();
        var img = ElfToImage.Convert(elf, ChipDatabase.Esp32C6);
        Assert.Equal(".flash.appdesc", img.Segments[0].Name);
        Assert.Equal(SHA256.HashData(elf), img.ToBytes().AsSpan(0xB0, 32).ToArray());
    }

    [Fact]
    public void SameMmuPageConflictIsReported()
    {
        var elf = new ElfWriter().Add(".flash.rodata", 0x3F400020, Bytes(0x40), ElfWriter.ShfAlloc)
            .Add(".flash.rodata2", 0x3F400100, Bytes(0x40), ElfWriter.ShfAlloc).Build();
        Assert.Contains("same 64 KB MMU page", Bad(elf).Message);
    }

    [Fact]
    public void UseSegmentsReadsProgramHeaders()
    {
        var elf = Esp32App().Build();
        var contents = ElfToImage.Read(elf, useSegments: true);
        Assert.Equal(5, contents.Chunks.Count);
        Assert.All(contents.Chunks, c => Assert.StartsWith("segment", c.Name));
        var img = ElfToImage.Convert(elf, ChipDatabase.Esp32, new ElfToImageOptions { UseSegments = true });
        Assert.True(EspImage.Parse(img.ToBytes(), ChipDatabase.Esp32).ChecksumValid);
        var noPh = new ElfWriter { ProgramHeaders = false }.Add(".iram0.text", 0x40080000, Bytes(8)).Build();
        var ex = Assert.Throws<EspException>(() => ElfToImage.Convert(noPh, ChipDatabase.Esp32, new ElfToImageOptions { UseSegments = true }));
        Assert.Equal(EspErrorCode.InvalidElf, ex.Code);
        Assert.Contains("PT_LOAD", ex.Message);
    }

    [Fact]
    public void Esp8266V1AndV2()
    {
        var elf = new ElfWriter { Entry = 0x40100004 }
            .Add(".text", 0x40100000, Bytes(0x100))
            .Add(".data", 0x3FFE8000, Bytes(0x20), ElfWriter.ShfAlloc | ElfWriter.ShfWrite)
            .Add(".irom0.text", 0x40210000, Bytes(0x1002))
            .Build();
        var v1 = ElfToImage.Convert(elf, ChipDatabase.Esp8266);
        Assert.Equal(ImageFormat.Esp8266V1, v1.Format);
        Assert.Equal(2, v1.Segments.Count);
        Assert.Equal(0x10000u, v1.Esp8266IromFlashOffset);
        Assert.Equal(0x1004, v1.IromSegment!.Length);
        Assert.True(EspImage.Parse(v1.ToBytes(), ChipDatabase.Esp8266).ChecksumValid);

        var v2 = ElfToImage.Convert(elf, ChipDatabase.Esp8266, new ElfToImageOptions { Esp8266Format = ImageFormat.Esp8266V2, FlashSize = "4MB" });
        var parsed = EspImage.Parse(v2.ToBytes(), ChipDatabase.Esp8266);
        Assert.Equal(ImageFormat.Esp8266V2, parsed.Format);
        Assert.True(parsed.CrcValid);
        Assert.Equal(0x40, parsed.FlashSizeCode);
        Assert.Equal(0x1010, parsed.IromSegment!.Length);

        var twoIrom = new ElfWriter().Add(".irom0.text", 0x40210000, Bytes(8)).Add(".irom1.text", 0x40220000, Bytes(8)).Build();
        Assert.Equal(EspErrorCode.InvalidElf, Assert.Throws<EspException>(() => ElfToImage.Convert(twoIrom, ChipDatabase.Esp8266)).Code);
    }

    [Fact]
    public void NotElf() => Assert.Contains("not an ELF", Bad(EspImageTests.Sample(ChipDatabase.Esp32).ToBytes()).Message);

    [Fact]
    public void Elf64() => Assert.Contains("64-bit", Bad(new ElfWriter { Class = 2 }.Add(".t", 0x40080000, Bytes(8)).Build()).Message);

    [Fact]
    public void BigEndian() => Assert.Contains("big-endian", Bad(new ElfWriter { DataEncoding = 2 }.Add(".t", 0x40080000, Bytes(8)).Build()).Message);

    [Fact]
    public void WrongMachine() => Assert.Contains("0x0028", Bad(new ElfWriter { Machine = 0x28 }.Add(".t", 0x40080000, Bytes(8)).Build()).Message);

    [Fact]
    public void NoLoadableSections() => Bad(new ElfWriter().AddBss(".bss", 0x3FFB0000, 0x100).Build());

    [Fact]
    public void TruncatedAndCorruptFilesOnlyThrowEspException()
    {
        var elf = Esp32App().Build();
        Bad(elf[..40]);
        Bad(elf[..(elf.Length - 10)]); // section headers cut off
        var rng = new Random(99);
        for (int i = 0; i < 400; i++)
        {
            var broken = (byte[])elf.Clone();
            for (int k = 0; k < 4; k++) broken[rng.Next(broken.Length)] = (byte)rng.Next(256);
            if (rng.Next(3) == 0) BinaryPrimitives.WriteUInt32LittleEndian(broken.AsSpan(32), (uint)rng.Next());
            try { ElfToImage.Convert(broken, ChipDatabase.Esp32, new ElfToImageOptions { UseSegments = rng.Next(2) == 0 }); }
            catch (EspException) { }
        }
    }

    [Fact]
    public void SectionDataPastEndOfFile()
    {
        var elf = Esp32App().Build();
        int shoff = (int)BinaryPrimitives.ReadUInt32LittleEndian(elf.AsSpan(32));
        BinaryPrimitives.WriteUInt32LittleEndian(elf.AsSpan(shoff + 40 + 20), 0x7FFFFFF0); // first section's size
        Assert.Contains("claims", Bad(elf).Message);
    }

    [Fact]
    public void TooManySegments()
    {
        var w = new ElfWriter();
        for (int i = 0; i < 17; i++) w.Add($".d{i}", 0x3FFB0000 + (uint)i * 0x100, Bytes(8), ElfWriter.ShfAlloc);
        Bad(w.Build(), EspErrorCode.InvalidImage);
    }
}
