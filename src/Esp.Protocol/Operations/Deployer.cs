using System.Diagnostics;
using Esp.Protocol.Commands;
using Esp.Protocol.Errors;
using Esp.Protocol.Loader;

namespace Esp.Protocol.Operations;

/// <summary>An image to place in flash.</summary>
public sealed record DeployImage(string Name, uint Address, byte[] Data)
{
    public uint End => Address + (uint)Data.Length;
}

public enum DeployAction { Skip, WriteChanged, WriteAll }

/// <summary>What planning found for one image: which sector-aligned ranges differ from the chip.</summary>
public sealed record DeployPlanEntry(DeployImage Image, DeployAction Action, IReadOnlyList<(uint Address, int Length)> Ranges)
{
    public long BytesToWrite => Ranges.Sum(r => (long)r.Length);
}

public sealed record DeployImageResult(string Name, uint Address, int Length, DeployAction Action, long BytesWritten,
    IReadOnlyList<(uint Address, int Length)> WrittenRanges, bool Verified, string Md5);

public sealed record DeployResult(IReadOnlyList<DeployImageResult> Images, TimeSpan Elapsed, long WireBytesSent, long WireBytesReceived)
{
    public long BytesWritten => Images.Sum(i => i.BytesWritten);

    /// <summary>How many times the deploy reconnected and resumed (0: it finished on its first connection).</summary>
    public int Resumes { get; init; }

    /// <summary>What the first connection had got through before it failed, when the deploy resumed.</summary>
    public string? ResumedAfter { get; init; }
}

public sealed record DeployOptions
{
    /// <summary>Compare (and rewrite) in units of this many bytes; a multiple of the 4 KiB erase sector.</summary>
    public int SectorSize { get; init; } = ProtocolConstants.FlashSectorSize;
    /// <summary>First-level block for the MD5 search.</summary>
    public int BlockSize { get; init; } = 0x10000;
    /// <summary>Write everything without comparing first.</summary>
    public bool Full { get; init; }
    public bool? Compress { get; init; }
    /// <summary>Compressed ranges shared with deploys of the same images to other boards (<see cref="FlashWriteOptions.SharedCompression"/>).</summary>
    public CompressionCache? SharedCompression { get; init; }
}

/// <summary>
/// Deploys images so that only what differs is written: one on-chip MD5 per image decides whether it changed;
/// a changed image is narrowed down with MD5s of 64 KiB blocks and then 4 KiB sectors (requests pipelined),
/// and only the differing sectors are rewritten. Every image is verified with the chip's MD5 at the end.
/// No copy of the previous image is needed.
/// </summary>
public static class Deployer
{
    public static async Task<IReadOnlyList<DeployPlanEntry>> PlanAsync(EspSession session, IReadOnlyList<DeployImage> images,
        DeployOptions? options = null, IProgress<EspProgress>? progress = null, CancellationToken ct = default)
    {
        options ??= new DeployOptions();
        CheckImages(session, images, options);
        var plan = new List<DeployPlanEntry>();
        if (options.Full || !FlashMd5.IsAvailable(session))
        {
            foreach (var image in images) plan.Add(new DeployPlanEntry(image, DeployAction.WriteAll, [(image.Address, image.Data.Length)]));
            return plan;
        }

        // Level 0: one MD5 per image.
        var whole = await FlashMd5.ComputeManyAsync(session, images.Select(i => (i.Address, (uint)i.Data.Length)).ToList(), ct: ct).ConfigureAwait(false);
        for (int i = 0; i < images.Count; i++)
        {
            ct.ThrowIfCancellationRequested();
            var image = images[i];
            progress?.Report(new EspProgress("plan", i, images.Count, image.Name));
            if (whole[i] == FlashMd5.Of(image.Data))
            {
                plan.Add(new DeployPlanEntry(image, DeployAction.Skip, []));
                continue;
            }
            var blocks = await DifferingAsync(session, image, Split(image, image.Address, image.Data.Length, options.BlockSize), whole[i], ct).ConfigureAwait(false);
            var sectors = new List<(uint Address, int Length)>();
            foreach (var (a, l, chipMd5) in blocks)
            {
                var parts = Split(image, a, l, options.SectorSize);
                if (chipMd5 == ErasedMd5(l))
                {
                    // Erased flash (a first deploy): every sector of the image that is not itself erased differs, which
                    // needs no MD5 exchange per sector to find out.
                    sectors.AddRange(parts.Where(p => image.Data.AsSpan((int)(p.Address - image.Address), p.Length).IndexOfAnyExcept((byte)0xFF) >= 0));
                    continue;
                }
                sectors.AddRange((await DifferingAsync(session, image, parts, null, ct).ConfigureAwait(false)).Select(d => (d.Address, d.Length)));
            }
            var ranges = Coalesce(sectors);
            bool all = ranges.Count == 1 && ranges[0].Address == image.Address && ranges[0].Length == image.Data.Length;
            plan.Add(new DeployPlanEntry(image, all ? DeployAction.WriteAll : DeployAction.WriteChanged, ranges));
        }
        progress?.Report(new EspProgress("plan", images.Count, images.Count));
        return plan;
    }

    public static async Task<DeployResult> ExecuteAsync(EspSession session, IReadOnlyList<DeployPlanEntry> plan,
        DeployOptions? options = null, IProgress<EspProgress>? progress = null, CancellationToken ct = default)
    {
        options ??= new DeployOptions();
        var sw = Stopwatch.StartNew();
        long sent0 = session.WireBytesSent, recv0 = session.WireBytesReceived;
        long total = plan.Sum(p => p.BytesToWrite), done = 0;
        var results = new List<DeployImageResult>();
        // What is known about the flash if this stops part-way: planning proved the unplanned sectors equal,
        // and every write below is checked with the chip's MD5 before it returns.
        bool anyWrite = false;
        var known = new List<FlashSpan>();
        foreach (var e in plan)
            known.AddRange(FlashSpan.Subtract([new FlashSpan(e.Image.Address, e.Image.Data.Length)], e.Ranges.Select(r => new FlashSpan(r.Address, r.Length))));
        var pending = plan.SelectMany(e => e.Ranges.Select(r => new FlashSpan(r.Address, r.Length))).ToList();
        foreach (var entry in plan)
        {
            var image = entry.Image;
            long written = 0;
            foreach (var (address, length) in entry.Ranges)
            {
                int offset = (int)(address - image.Address);
                long before = done;
                var inner = progress is null ? null : new InlineProgress(p =>
                {
                    if (p.Operation == "write") progress.Report(new EspProgress("write", before + p.Done, total, image.Name));
                });
                try
                {
                    ct.ThrowIfCancellationRequested();
                    await FlashWriter.WriteAsync(session, address, image.Data.AsMemory(offset, length),
                        new FlashWriteOptions { Compress = options.Compress, SharedCompression = options.SharedCompression }, inner, ct).ConfigureAwait(false);
                }
                catch (EspWriteIncompleteException ex)
                {
                    var span = new FlashSpan(address, length);
                    throw new EspWriteIncompleteException(ex.Code, $"Deploying '{image.Name}' stopped: {ex.Cause}",
                        known, ex.Unverified, FlashSpan.Subtract(pending, ex.Unverified.Concat(known)), ex.Help, ex.InnerException ?? ex);
                }
                catch (OperationCanceledException ex) when (ct.IsCancellationRequested && anyWrite)
                {
                    throw new EspWriteIncompleteException(EspErrorCode.Cancelled, $"Deploying '{image.Name}' was cancelled",
                        known, [], pending, inner: ex);
                }
                anyWrite = true;
                var doneSpan = new FlashSpan(address, length);
                known.Add(doneSpan);
                pending = FlashSpan.Subtract(pending, [doneSpan]).ToList();
                written += length;
                done += length;
            }
            // The final word: the chip's MD5 of the whole image after writing. A skipped image was just proven equal by
            // the plan's MD5 and nothing touched it since, so it needs no second exchange.
            string md5 = FlashMd5.Of(image.Data);
            bool verified = entry.Action == DeployAction.Skip && FlashMd5.IsAvailable(session);
            if (!verified && FlashMd5.IsAvailable(session))
            {
                string chip;
                try
                {
                    chip = await FlashMd5.ComputeAsync(session, image.Address, (uint)image.Data.Length, ct).ConfigureAwait(false);
                }
                catch (Exception ex) when (anyWrite && WriteTracker.IsInterruption(ex, ct))
                {
                    // Every range was checked as it was written; only this last look at the whole image stopped.
                    throw new EspWriteIncompleteException(ex is EspException e ? e.Code : EspErrorCode.Cancelled,
                        $"Checking '{image.Name}' stopped: {(ex is EspException ? ex.Message : "it was cancelled")}",
                        known, [], pending, inner: ex);
                }
                if (chip != md5)
                    throw new EspException(EspErrorCode.WriteVerifyFailed,
                        $"After deploying '{image.Name}', the flash at 0x{image.Address:X8} still differs from it (chip MD5 {chip}, expected {md5}).");
                verified = true;
            }
            results.Add(new DeployImageResult(image.Name, image.Address, image.Data.Length, entry.Action, written, entry.Ranges, verified, md5));
        }
        return new DeployResult(results, sw.Elapsed, session.WireBytesSent - sent0, session.WireBytesReceived - recv0);
    }

    public static async Task<DeployResult> DeployAsync(EspSession session, IReadOnlyList<DeployImage> images,
        DeployOptions? options = null, IProgress<EspProgress>? progress = null, CancellationToken ct = default)
    {
        var sw = Stopwatch.StartNew();
        long sent0 = session.WireBytesSent, recv0 = session.WireBytesReceived;
        var plan = await PlanAsync(session, images, options, progress, ct).ConfigureAwait(false);
        var result = await ExecuteAsync(session, plan, options, progress, ct).ConfigureAwait(false);
        return result with { Elapsed = sw.Elapsed, WireBytesSent = session.WireBytesSent - sent0, WireBytesReceived = session.WireBytesReceived - recv0 };
    }

    private static void CheckImages(EspSession session, IReadOnlyList<DeployImage> images, DeployOptions options)
    {
        if (options.SectorSize <= 0 || options.SectorSize % ProtocolConstants.FlashSectorSize != 0 || options.BlockSize % options.SectorSize != 0)
            throw new EspException(EspErrorCode.InvalidArgument, "The deploy sector size must be a multiple of 4096 and divide the block size.");
        for (int i = 0; i < images.Count; i++)
        {
            var a = images[i];
            if (a.Data.Length == 0) throw new EspException(EspErrorCode.FileEmpty, $"The image '{a.Name}' is empty.");
            if (a.Address % ProtocolConstants.FlashSectorSize != 0)
                throw new EspException(EspErrorCode.UnalignedAddress,
                    $"The image '{a.Name}' starts at 0x{a.Address:X8}, which is not a multiple of 4096 (0x1000).",
                    "Deploy images at sector-aligned addresses so that rewriting one does not erase its neighbour.");
            for (int j = i + 1; j < images.Count; j++)
            {
                var b = images[j];
                if (a.Address < b.End && b.Address < a.End)
                    throw new EspException(EspErrorCode.OverlappingRegions,
                        $"The images '{a.Name}' (0x{a.Address:X8}..0x{a.End:X8}) and '{b.Name}' (0x{b.Address:X8}..0x{b.End:X8}) overlap.");
            }
        }
    }

    private static List<(uint Address, int Length)> Split(DeployImage image, uint start, int length, int unit)
    {
        var parts = new List<(uint, int)>();
        uint end = start + (uint)length;
        for (uint a = start; a < end;)
        {
            // Align part boundaries to the unit in flash address space.
            uint next = Math.Min(end, (a / (uint)unit + 1) * (uint)unit);
            parts.Add((a, (int)(next - a)));
            a = next;
        }
        return parts;
    }

    /// <summary>
    /// The parts whose flash differs from the image, with the chip's MD5 of each. A single part is the range whose MD5
    /// the caller already has (<paramref name="knownMd5"/>), known to differ.
    /// </summary>
    private static async Task<List<(uint Address, int Length, string? ChipMd5)>> DifferingAsync(EspSession session, DeployImage image,
        List<(uint Address, int Length)> parts, string? knownMd5, CancellationToken ct)
    {
        if (parts.Count == 1) return [(parts[0].Address, parts[0].Length, knownMd5)];
        var md5s = await FlashMd5.ComputeManyAsync(session, parts.Select(p => (p.Address, (uint)p.Length)).ToList(), ct: ct).ConfigureAwait(false);
        var differing = new List<(uint, int, string?)>();
        for (int i = 0; i < parts.Count; i++)
        {
            var (a, l) = parts[i];
            if (md5s[i] != FlashMd5.Of(image.Data.AsSpan((int)(a - image.Address), l))) differing.Add((a, l, md5s[i]));
        }
        return differing;
    }

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<int, string> ErasedMd5s = new();

    /// <summary>The MD5 of <paramref name="length"/> erased (0xFF) bytes.</summary>
    private static string ErasedMd5(int length) => ErasedMd5s.GetOrAdd(length, n =>
    {
        var erased = new byte[n];
        Array.Fill(erased, (byte)0xFF);
        return FlashMd5.Of(erased);
    });

    private static List<(uint Address, int Length)> Coalesce(List<(uint Address, int Length)> ranges)
    {
        var result = new List<(uint Address, int Length)>();
        foreach (var r in ranges.OrderBy(r => r.Address))
        {
            if (result.Count > 0 && result[^1].Address + (uint)result[^1].Length == r.Address)
                result[^1] = (result[^1].Address, result[^1].Length + r.Length);
            else
                result.Add(r);
        }
        return result;
    }
}
