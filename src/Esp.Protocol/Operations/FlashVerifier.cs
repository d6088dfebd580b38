using Esp.Protocol.Errors;
using Esp.Protocol.Loader;

namespace Esp.Protocol.Operations;

/// <summary>A run of bytes where flash and file differ.</summary>
public sealed record DiffRange(uint Address, int Length, byte[] FlashBytes, byte[] FileBytes)
{
    public override string ToString() =>
        $"0x{Address:X8}..0x{Address + (uint)Length:X8} ({Length} bytes): flash {Hex(FlashBytes)} file {Hex(FileBytes)}";

    private static string Hex(byte[] b) => Convert.ToHexStringLower(b) + (b.Length >= FlashVerifier.SampleBytes ? "…" : "");
}

/// <summary>The outcome of comparing flash with a file.</summary>
public sealed record VerifyResult(uint Address, int Length, bool Matched, string ExpectedMd5, string FlashMd5, IReadOnlyList<DiffRange> Differences)
{
    public long DifferentBytes => Differences.Sum(d => (long)d.Length);
}

/// <summary>verify_flash: the chip's MD5 first; only on a mismatch (and when asked) read back and list what differs.</summary>
public static class FlashVerifier
{
    /// <summary>How many leading bytes of each range are kept for display.</summary>
    public const int SampleBytes = 8;

    /// <summary>Differences closer than this are merged into one range.</summary>
    public const int MergeGap = 16;

    public static async Task<VerifyResult> VerifyAsync(EspSession session, uint address, ReadOnlyMemory<byte> expected,
        bool diff, IProgress<EspProgress>? progress = null, CancellationToken ct = default)
    {
        if (expected.Length == 0) throw new EspException(EspErrorCode.FileEmpty, "There is nothing to verify (0 bytes).");
        // Pad to a whole word with erased bytes, exactly as the write did.
        var data = expected.ToArray();
        if (data.Length % 4 != 0)
        {
            var p = new byte[(data.Length + 3) & ~3];
            data.CopyTo(p, 0);
            p.AsSpan(data.Length).Fill(0xFF);
            data = p;
        }
        await session.EnsureFlashAttachedAsync(ct).ConfigureAwait(false);
        FlashRange.Check(session, address, (uint)data.Length);
        string want = FlashMd5.Of(data);
        progress?.Report(new EspProgress("verify", 0, data.Length));
        string got = await FlashMd5.ComputeAsync(session, address, (uint)data.Length, ct).ConfigureAwait(false);
        progress?.Report(new EspProgress("verify", data.Length, data.Length));
        if (got == want) return new VerifyResult(address, expected.Length, true, want, got, []);
        if (!diff) return new VerifyResult(address, expected.Length, false, want, got, []);

        var flash = await FlashReader.ReadAsync(session, address, data.Length, progress, ct).ConfigureAwait(false);
        return new VerifyResult(address, expected.Length, false, want, got, Compare(address, flash, data.AsSpan(0, expected.Length)));
    }

    /// <summary>Groups differing bytes into ranges (gaps shorter than <see cref="MergeGap"/> are bridged).</summary>
    public static IReadOnlyList<DiffRange> Compare(uint address, ReadOnlySpan<byte> flash, ReadOnlySpan<byte> file)
    {
        var ranges = new List<DiffRange>();
        int n = Math.Min(flash.Length, file.Length);
        int i = 0;
        while (i < n)
        {
            int rel = flash[i..n].CommonPrefixLength(file[i..n]);
            i += rel;
            if (i >= n) break;
            int start = i, lastDiff = i;
            while (i < n && i - lastDiff <= MergeGap)
            {
                if (flash[i] != file[i]) lastDiff = i;
                i++;
            }
            int len = lastDiff - start + 1;
            int sample = Math.Min(SampleBytes, len);
            ranges.Add(new DiffRange(address + (uint)start, len, flash.Slice(start, sample).ToArray(), file.Slice(start, sample).ToArray()));
            i = lastDiff + 1;
        }
        return ranges;
    }
}
