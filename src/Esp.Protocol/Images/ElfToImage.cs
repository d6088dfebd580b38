using System.Buffers.Binary;
using System.Security.Cryptography;
using ELFSharp.ELF;
using ELFSharp.ELF.Segments;
using Esp.Protocol.Chips;
using Esp.Protocol.Errors;

namespace Esp.Protocol.Images;

/// <summary>Options for <see cref="ElfToImage.Convert"/>; defaults follow esptool's elf2image.</summary>
public sealed record ElfToImageOptions
{
    /// <summary>Flash mode name (qio, qout, dio, dout).</summary>
    public string FlashMode { get; init; } = "qio";
    /// <summary>Flash frequency name from the chip's table; null = the chip's default (the name with code 0, e.g. 40m).</summary>
    public string? FlashFrequency { get; init; }
    /// <summary>Flash size name from the chip's table.</summary>
    public string FlashSize { get; init; } = "1MB";
    /// <summary>Legacy minimum chip revision (major).</summary>
    public byte MinRev { get; init; }
    /// <summary>Minimum chip revision, major·100 + minor.</summary>
    public ushort MinRevFull { get; init; }
    /// <summary>Maximum chip revision, major·100 + minor (0xFFFF = no limit).</summary>
    public ushort MaxRevFull { get; init; } = 0xFFFF;
    /// <summary>Append the SHA-256 of the image (ESP32 layout only).</summary>
    public bool AppendSha256 { get; init; } = true;
    /// <summary>Read PT_LOAD program headers instead of the section headers.</summary>
    public bool UseSegments { get; init; }
    /// <summary>MMU page size for flash-mapped segments; null = the chip's <see cref="ChipDefinition.MmuPageSize"/>.</summary>
    public uint? MmuPageSize { get; init; }
    /// <summary>ESP8266 only: <see cref="ImageFormat.Esp8266V1"/> (default) or <see cref="ImageFormat.Esp8266V2"/>.</summary>
    public ImageFormat Esp8266Format { get; init; } = ImageFormat.Esp8266V1;
    /// <summary>
    /// File offset in the image where the SHA-256 of the ELF file is written (inside a segment). Null = 0xB0 when the
    /// ELF has a flash-mapped <c>.flash.appdesc</c> section (ESP-IDF's app description), otherwise none.
    /// </summary>
    public uint? ElfSha256Offset { get; init; }
}

/// <summary>
/// esptool's elf2image: turns an ELF32 little-endian Xtensa or RISC-V executable into an <see cref="EspImage"/>.
/// </summary>
/// <remarks>
/// <para>Input: like esptool, the section headers are used by default: every section with a non-zero address and
/// size whose type carries file data (PROGBITS, INIT_ARRAY, FINI_ARRAY, PREINIT_ARRAY). Section granularity keeps
/// names (needed for <c>.flash.appdesc</c> / <c>.dram0.bootdesc</c> placement) and skips NOBITS data such as .bss
/// that a PT_LOAD segment may include. <see cref="ElfToImageOptions.UseSegments"/> reads PT_LOAD program headers
/// instead (file bytes only).</para>
/// <para>Then: data is zero-padded to 4 bytes; sections that touch and lie in the same memory region of the chip are
/// merged; for ESP32-family chips segments are sorted by address and split into flash-mapped (IROM/DROM regions) and
/// RAM segments; each flash-mapped segment is placed so that (file offset of its data) mod page == address mod page,
/// filling the gap in front of it with a slice of the next RAM segment or, when none is left (or the gap is 8 bytes
/// or less), a padding segment with load address 0. Remaining RAM segments follow.</para>
/// </remarks>
public static class ElfToImage
{
    private const ushort MachineXtensa = 0x5E;
    private const ushort MachineRiscV = 0xF3;
    private const uint Esp8266IromMapEnd = 0x40300000;

    /// <summary>A loadable piece of the ELF file.</summary>
    /// <param name="Name">Section name, or "segment n".</param>
    /// <param name="Address">Load address.</param>
    /// <param name="Data">File bytes.</param>
    public sealed record ElfChunk(string Name, uint Address, byte[] Data);

    /// <summary>The entry point and loadable chunks of an ELF file, in file order.</summary>
    public sealed record ElfContents(uint Entry, ushort Machine, IReadOnlyList<ElfChunk> Chunks);

    /// <summary>Converts an ELF file into an image for <paramref name="chip"/>.</summary>
    /// <exception cref="EspException">InvalidElf for anything that is not a usable ELF32 LE Xtensa/RISC-V executable or whose
    /// flash sections cannot be placed; InvalidArgument for bad flash names; InvalidImage when more than 16 segments result.</exception>
    public static EspImage Convert(ReadOnlySpan<byte> elf, ChipDefinition chip, ElfToImageOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(chip);
        options ??= new ElfToImageOptions();
        var contents = Read(elf, options.UseSegments);

        var format = chip.IsEsp8266 ? options.Esp8266Format : ImageFormat.Esp32;
        var image = EspImage.Create(chip, format);
        image.Entry = contents.Entry;
        image.FlashMode = EspImage.ParseFlashMode(options.FlashMode);
        image.FlashSizeCode = EspImage.ParseFlashSize(chip, options.FlashSize);
        image.FlashFrequencyCode = options.FlashFrequency is null
            ? (byte)0
            : EspImage.ParseFlashFrequency(chip, options.FlashFrequency);
        image.MinRev = options.MinRev;
        image.MinRevFull = options.MinRevFull;
        image.MaxRevFull = options.MaxRevFull;
        image.HashAppended = format == ImageFormat.Esp32 && options.AppendSha256;

        var segments = Merge(contents.Chunks.Select(c => new ImageSegment(c.Address, Pad4(c.Data)) { Name = c.Name }).ToList(), chip);

        if (chip.IsEsp8266)
        {
            var irom = segments.Where(IsEsp8266Irom).ToList();
            if (irom.Count > 1)
                throw Bad($"{irom.Count} sections lie in the ESP8266 IROM window (0x40200000–0x40300000): {string.Join(", ", irom.Select(s => s.Name))}; only one can be stored.",
                    "Merge them in the linker script.");
            image.IromSegment = irom.FirstOrDefault();
            image.Segments.AddRange(segments.Where(s => !IsEsp8266Irom(s)));
            CheckCount(image.Segments.Count);
            return image;
        }

        CheckCount(segments.Count);
        uint page = options.MmuPageSize ?? chip.MmuPageSize;
        if (page < 0x1000 || page > 0x400000 || (page & (page - 1)) != 0)
            throw new EspException(EspErrorCode.InvalidArgument, $"MMU page size 0x{page:X} is not a power of two between 4 KB and 4 MB.",
                "Use the chip's MMU page size, e.g. 0x10000 (64 KB).");
        Layout(image, segments, chip, page);

        uint? shaOffset = options.ElfSha256Offset;
        if (shaOffset is null && image.Segments.Any(s => s.Name == ".flash.appdesc" && IsFlash(chip, s.Address)))
            shaOffset = 0xB0;
        if (shaOffset is { } off) PatchElfSha(image, off, elf);
        return image;
    }

    /// <summary>Reads the entry point and loadable chunks of an ELF file (see the class remarks for which ones).</summary>
    /// <exception cref="EspException">InvalidElf.</exception>
    public static ElfContents Read(ReadOnlySpan<byte> elf, bool useSegments = false)
    {
        CheckHeader(elf);
        ushort machine = BinaryPrimitives.ReadUInt16LittleEndian(elf[18..]);
        var bytes = elf.ToArray();
        ELF<uint>? parsed = null;
        try
        {
            using var stream = new MemoryStream(bytes, writable: false);
            if (!ELFReader.TryLoad(stream, false, out parsed) || parsed is null)
                throw Bad("The ELF file could not be read (ELFSharp rejected its structure).", null);
            var chunks = new List<ElfChunk>();
            if (useSegments)
            {
                int n = 0;
                foreach (var seg in parsed.Segments)
                {
                    n++;
                    if (seg.Type != SegmentType.Load || seg.FileSize == 0) continue;
                    CheckRange(bytes.Length, seg.Offset, seg.FileSize, $"program header {n - 1}");
                    chunks.Add(new ElfChunk($"segment {n - 1}", seg.Address, bytes.AsSpan((int)seg.Offset, (int)seg.FileSize).ToArray()));
                }
            }
            else
            {
                foreach (var sec in parsed.Sections)
                {
                    uint type = (uint)sec.Type;
                    bool hasData = type is 0x01 or 0x0E or 0x0F or 0x10;
                    if (!hasData || sec.LoadAddress == 0 || sec.Size == 0) continue;
                    CheckRange(bytes.Length, sec.Offset, sec.Size, $"section '{sec.Name}'");
                    chunks.Add(new ElfChunk(sec.Name, sec.LoadAddress, bytes.AsSpan((int)sec.Offset, (int)sec.Size).ToArray()));
                }
            }
            if (chunks.Count == 0)
                throw Bad(useSegments ? "The ELF file has no PT_LOAD program header with file data." : "The ELF file has no loadable section with data (PROGBITS at a non-zero address).",
                    useSegments ? "Link the program normally, or read sections instead of segments." : "Check the linker script, or read PT_LOAD segments instead.");
            return new ElfContents(parsed.EntryPoint, machine, chunks);
        }
        catch (EspException) { throw; }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            throw new EspException(EspErrorCode.InvalidElf, $"The ELF file is malformed: {ex.Message}", EspErrorHelp.For(EspErrorCode.InvalidElf), ex);
        }
        finally
        {
            parsed?.Dispose();
        }
    }

    private static void CheckHeader(ReadOnlySpan<byte> elf)
    {
        if (elf.Length < 4 || elf[0] != 0x7F || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F')
            throw Bad("The file is not an ELF file (it does not start with 0x7F 'E' 'L' 'F').",
                "Give the .elf produced by the linker (not the .bin or .hex).");
        if (elf.Length < 52)
            throw Bad($"The ELF file is {elf.Length} bytes long; its header alone needs 52.", "The file is truncated; rebuild it.");
        if (elf[4] != 1)
            throw Bad(elf[4] == 2 ? "The ELF file is 64-bit; ESP chips run 32-bit code." : $"The ELF class byte is {elf[4]}, not 1 (32-bit).",
                "Build for the ESP chip's Xtensa or RISC-V 32-bit target.");
        if (elf[5] != 1)
            throw Bad(elf[5] == 2 ? "The ELF file is big-endian; ESP chips are little-endian." : $"The ELF data-encoding byte is {elf[5]}, not 1 (little-endian).",
                "Build for the ESP chip's little-endian target.");
        ushort machine = BinaryPrimitives.ReadUInt16LittleEndian(elf[18..]);
        if (machine is not (MachineXtensa or MachineRiscV))
            throw Bad($"The ELF file is for machine 0x{machine:X4}, not Xtensa (0x5E) or RISC-V (0xF3).",
                "Build the program for the ESP chip.");
        uint phoff = BinaryPrimitives.ReadUInt32LittleEndian(elf[28..]);
        uint shoff = BinaryPrimitives.ReadUInt32LittleEndian(elf[32..]);
        ushort phentsize = BinaryPrimitives.ReadUInt16LittleEndian(elf[42..]);
        ushort phnum = BinaryPrimitives.ReadUInt16LittleEndian(elf[44..]);
        ushort shentsize = BinaryPrimitives.ReadUInt16LittleEndian(elf[46..]);
        ushort shnum = BinaryPrimitives.ReadUInt16LittleEndian(elf[48..]);
        ushort shstrndx = BinaryPrimitives.ReadUInt16LittleEndian(elf[50..]);
        if (phnum > 0)
        {
            if (phentsize != 32) throw Bad($"The ELF program header entry size is {phentsize}, not 32.", null);
            CheckRange(elf.Length, phoff, (long)phnum * 32, "program header table");
        }
        if (shnum == 0 && shoff != 0)
        {
            // Extended numbering: e_shnum = 0 means "the count is in section 0's sh_size". Readers trust it, so a
            // damaged file could make them walk millions of headers past its end; check it like any other count.
            CheckRange(elf.Length, shoff, 40, "section header 0");
            long count = BinaryPrimitives.ReadUInt32LittleEndian(elf[((int)shoff + 20)..]);
            if (count > 0)
            {
                if (shentsize != 40) throw Bad($"The ELF section header entry size is {shentsize}, not 40.", null);
                CheckRange(elf.Length, shoff, count * 40, "section header table");
            }
        }
        if (shnum > 0)
        {
            if (shentsize != 40) throw Bad($"The ELF section header entry size is {shentsize}, not 40.", null);
            CheckRange(elf.Length, shoff, (long)shnum * 40, "section header table");
            if (shstrndx >= shnum) throw Bad($"The ELF section-name table index {shstrndx} is not below the section count {shnum}.", null);
            var strHeader = elf.Slice((int)shoff + shstrndx * 40, 40);
            CheckRange(elf.Length, BinaryPrimitives.ReadUInt32LittleEndian(strHeader[16..]), BinaryPrimitives.ReadUInt32LittleEndian(strHeader[20..]), "section-name table");
        }
    }

    private static void CheckRange(int fileLength, long offset, long length, string what)
    {
        if (offset < 0 || length < 0 || offset + length > fileLength)
            throw Bad($"The ELF {what} at offset 0x{offset:X} claims 0x{length:X} bytes but the file is only 0x{fileLength:X} bytes long.",
                "The file is truncated or damaged; rebuild it.");
    }

    private static byte[] Pad4(byte[] data) =>
        data.Length % 4 == 0 ? data : [.. data, .. new byte[4 - data.Length % 4]];

    private static List<ImageSegment> Merge(List<ImageSegment> segments, ChipDefinition chip)
    {
        var result = new List<ImageSegment>();
        foreach (var s in segments)
        {
            if (result.Count > 0)
            {
                var last = result[^1];
                if ((ulong)last.Address + (ulong)last.Length == s.Address
                    && chip.RegionAt(last.Address)?.Name == chip.RegionAt(s.Address)?.Name)
                {
                    result[^1] = new ImageSegment(last.Address, [.. last.Data, .. s.Data]) { Name = last.Name };
                    continue;
                }
            }
            result.Add(s);
        }
        return result;
    }

    private static bool IsEsp8266Irom(ImageSegment s) => s.Address is >= EspImage.Esp8266IromMapStart and < Esp8266IromMapEnd;

    private static bool IsFlash(ChipDefinition chip, uint address) =>
        chip.RegionAt(address)?.Kind is MemoryKind.FlashCode or MemoryKind.FlashData;

    private static void Layout(EspImage image, List<ImageSegment> segments, ChipDefinition chip, uint page)
    {
        var sorted = segments.OrderBy(s => s.Address).ToList();
        var flash = sorted.Where(s => IsFlash(chip, s.Address)).ToList();
        var ram = sorted.Where(s => !IsFlash(chip, s.Address)).ToList();
        MoveToFront(flash, ".flash.appdesc");
        MoveToFront(ram, ".dram0.bootdesc");

        for (int i = 1; i < flash.Count; i++)
            if (flash[i].Address / page == flash[i - 1].Address / page)
                throw Bad($"Flash section {flash[i].Name} at 0x{flash[i].Address:X8} lies in the same {page / 1024} KB MMU page as {flash[i - 1].Name} at 0x{flash[i - 1].Address:X8}; the image cannot map both.",
                    "Change the linker script so that these sections are merged or start in different MMU pages.");

        long pos = EspImage.HeaderLength + EspImage.ExtendedHeaderLength;
        void Emit(ImageSegment s)
        {
            s.FileOffset = (int)pos;
            image.Segments.Add(s);
            pos += EspImage.SegmentHeaderLength + s.Length;
            if (image.Segments.Count > EspImage.MaxSegments)
                throw EspImage.Invalid($"Placing the flash-mapped sections needs more than {EspImage.MaxSegments} segments including padding.",
                    "Merge sections in the linker script so that fewer segments remain.");
        }

        int f = 0;
        while (f < flash.Count)
        {
            var seg = flash[f];
            long pad = PaddingNeeded(pos, seg.Address, page);
            if (pad < 0)
            {
                var data = seg.Data;
                if (chip.Key == "esp32")
                {
                    // ESP32 quirk kept by esptool: the old second-stage bootloader did not map the last MMU page when a
                    // flash segment ended less than 0x24 bytes past a page boundary, so such segments are lengthened.
                    long rem = (pos + EspImage.SegmentHeaderLength + data.Length) % page;
                    if (rem < 0x24) data = [.. data, .. new byte[0x24 - rem]];
                }
                Emit(new ImageSegment(seg.Address, data) { Name = seg.Name });
                f++;
            }
            else if (ram.Count > 0 && pad > EspImage.SegmentHeaderLength)
            {
                var r = ram[0];
                int take = (int)Math.Min(pad, r.Length);
                Emit(new ImageSegment(r.Address, r.Data[..take]) { Name = r.Name });
                if (take == r.Length) ram.RemoveAt(0);
                else ram[0] = new ImageSegment(r.Address + (uint)take, r.Data[take..]) { Name = r.Name };
            }
            else Emit(new ImageSegment(0, new byte[pad]) { Name = "padding" });
        }
        foreach (var r in ram) Emit(new ImageSegment(r.Address, r.Data) { Name = r.Name });
    }

    /// <summary>
    /// Bytes of padding-segment data to write before <paramref name="address"/>'s segment so that its data lands at a
    /// file offset congruent to the address modulo the page; -1 when it already does. Follows esptool's arithmetic
    /// exactly (which can ask for more than a page when the target lies far into the page), so the output matches
    /// esptool byte for byte; where esptool would fail (exactly 8 bytes missing) this returns 0, i.e. an empty
    /// padding segment whose header alone fills the gap.
    /// </summary>
    internal static long PaddingNeeded(long pos, uint address, uint page)
    {
        long alignPast = (long)(address % page) - EspImage.SegmentHeaderLength;
        long pad = page - pos % page + alignPast;
        if (pad == 0 || pad == page) return -1;
        pad -= EspImage.SegmentHeaderLength; // the padding segment's own header
        if (pad < 0) pad += page;
        return pad;
    }

    private static void MoveToFront(List<ImageSegment> list, string name)
    {
        int i = list.FindIndex(s => s.Name == name);
        if (i <= 0) return;
        var s = list[i];
        list.RemoveAt(i);
        list.Insert(0, s);
    }

    private static void PatchElfSha(EspImage image, uint offset, ReadOnlySpan<byte> elf)
    {
        foreach (var s in image.Segments)
        {
            if (s.DataOffset < 0 || offset < s.DataOffset || offset >= s.DataOffset + s.Length) continue;
            int at = (int)(offset - s.DataOffset);
            if (at + 32 > s.Length)
                throw Bad($"The ELF SHA-256 at image offset 0x{offset:X} would run past the end of the segment at 0x{s.Address:X8}.",
                    "Check the app description section or the SHA-256 offset option.");
            SHA256.HashData(elf, s.Data.AsSpan(at, 32));
            return;
        }
        throw Bad($"No segment holds image offset 0x{offset:X}, where the ELF SHA-256 should go.",
            "Check the app description section or the SHA-256 offset option.");
    }

    private static void CheckCount(int count)
    {
        if (count > EspImage.MaxSegments)
            throw EspImage.Invalid($"The ELF file gives {count} segments after merging; at most {EspImage.MaxSegments} fit in an image.",
                "Usually this means a linker script problem: merge sections so that fewer remain.");
    }

    private static EspException Bad(string message, string? help) => new(EspErrorCode.InvalidElf, message, help);
}
