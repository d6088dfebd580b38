using Esp.Protocol.Chips;
using Esp.Protocol.Errors;
using Esp.Protocol.Images;
using Esp.Protocol.Loader;

namespace Esp.Protocol.Operations;

/// <summary>A piece of a program to place in RAM.</summary>
public sealed record RamSegment(uint Address, byte[] Data)
{
    public uint End => Address + (uint)Data.Length;
}

/// <summary>load_ram: places segments in RAM and jumps to the entry point.</summary>
public static class RamLoader
{
    /// <summary>
    /// Reads a program for load_ram: an ESP image (.bin), or Intel HEX holding one (as merge_bin writes it; the
    /// HEX addresses are ignored because the image's segments carry their own).
    /// </summary>
    public static (IReadOnlyList<RamSegment> Segments, uint Entry) ParseProgram(ReadOnlySpan<byte> file, ChipDefinition? chip = null)
    {
        if (file.IsEmpty) throw new EspException(EspErrorCode.FileEmpty, "The program file is empty.");
        ReadOnlySpan<byte> image = file;
        if (IntelHex.LooksLikeHex(file))
        {
            var hex = IntelHex.Parse(file);
            if (hex.Runs.Count != 1)
                throw new EspException(EspErrorCode.InvalidIntelHex,
                    $"The Intel HEX file holds {hex.Runs.Count} separate blocks of data; load_ram takes one image.",
                    "Give the application image alone (not a merged flash image).");
            image = hex.Runs[0].Data;
        }
        var parsed = EspImage.Parse(image, chip);
        if (!parsed.ChecksumValid)
            throw new EspException(EspErrorCode.ImageChecksumMismatch,
                $"The image's checksum is 0x{parsed.StoredChecksum:X2} but its data gives 0x{parsed.ComputedChecksum:X2}: the file is damaged.");
        return (parsed.Segments.Where(s => s.Data.Length > 0).Select(s => new RamSegment(s.Address, s.Data)).ToList(), parsed.Entry);
    }

    /// <summary>Throws when a segment cannot be loaded: it lies outside RAM or over the running stub.</summary>
    public static void Check(ChipDefinition chip, IReadOnlyList<RamSegment> segments, StubImage? runningStub, StubLocation? knownStub = null)
    {
        for (int i = 0; i < segments.Count; i++)
        {
            var s = segments[i];
            if (s.Data.Length == 0) continue;
            var region = chip.MemoryMap.Concat(chip.LoaderOnlyRam).FirstOrDefault(r => r.Contains(s.Address, (uint)s.Data.Length));
            if (region is null || !region.IsRam)
            {
                var where = chip.RegionAt(s.Address);
                throw new EspException(EspErrorCode.SegmentNotInRam,
                    $"Segment {i} at 0x{s.Address:X8}..0x{s.End:X8} is not in {chip.Name} RAM" +
                    (where is null ? "." : $" (it lies in {where.Name})."));
            }
            IEnumerable<(uint Start, uint End)> stubRanges = runningStub?.OccupiedRanges()
                ?? (knownStub is null ? [] : [(knownStub.TextStart, knownStub.TextEnd), (knownStub.DataStart, knownStub.DataEnd)]);
            foreach (var (start, end) in stubRanges)
            {
                if (s.Address < end && s.End > start)
                    throw new EspException(EspErrorCode.SegmentOverlapsStub,
                        $"Segment {i} at 0x{s.Address:X8}..0x{s.End:X8} overlaps the running flasher stub at 0x{start:X8}..0x{end:X8}.");
            }
        }
    }

    public static async Task LoadAsync(EspSession session, IReadOnlyList<RamSegment> segments, uint entry,
        IProgress<EspProgress>? progress = null, CancellationToken ct = default)
    {
        bool stub = session.Loader.Kind == LoaderKind.FlasherStub;
        Check(session.Chip, segments, stub ? session.Stub : null, stub && session.Stub is null ? session.Chip.StubFor() : null);
        long total = segments.Sum(s => (long)s.Data.Length), done = 0;
        foreach (var s in segments)
        {

            await session.WriteRamAsync(s.Address, s.Data, null, "load_ram", ct).ConfigureAwait(false);
            done += s.Data.Length;
            progress?.Report(new EspProgress("load_ram", done, total));
        }
        await session.MemEndAsync(entry, ct).ConfigureAwait(false);
    }
}
