using System.Text;

namespace Esp.Protocol.Errors;

/// <summary>A range of flash addresses, [Address, Address + Length).</summary>
public readonly record struct FlashSpan(uint Address, long Length)
{
    public ulong End => Address + (ulong)Length;
    public override string ToString() => $"0x{Address:X8}..0x{End:X8}";

    /// <summary>Sorts, drops empty spans and merges touching ones.</summary>
    public static IReadOnlyList<FlashSpan> Normalize(IEnumerable<FlashSpan> spans)
    {
        var result = new List<FlashSpan>();
        foreach (var s in spans.Where(s => s.Length > 0).OrderBy(s => s.Address))
        {
            if (result.Count > 0 && result[^1].End >= s.Address)
            {
                var last = result[^1];
                ulong end = Math.Max(last.End, s.End);
                result[^1] = new FlashSpan(last.Address, (long)(end - last.Address));
            }
            else result.Add(s);
        }
        return result;
    }

    /// <summary><paramref name="whole"/> minus every span in <paramref name="remove"/>.</summary>
    public static IReadOnlyList<FlashSpan> Subtract(IEnumerable<FlashSpan> whole, IEnumerable<FlashSpan> remove)
    {
        var cuts = Normalize(remove);
        var result = new List<FlashSpan>();
        foreach (var w in Normalize(whole))
        {
            ulong at = w.Address, end = w.End;
            foreach (var c in cuts)
            {
                if (c.End <= at || c.Address >= end) continue;
                if (c.Address > at) result.Add(new FlashSpan((uint)at, (long)(c.Address - at)));
                at = Math.Max(at, c.End);
            }
            if (at < end) result.Add(new FlashSpan((uint)at, (long)(end - at)));
        }
        return result;
    }
}

/// <summary>
/// A write or deploy stopped part-way (link failure, chip reset, cancellation). Says exactly which flash ranges
/// are known good, which the chip acknowledged but nobody checked yet, and which were not written (they may hold
/// erased or old data). <see cref="EspException.Code"/> is the cause (Timeout, Disconnected, Cancelled…).
/// </summary>
public sealed class EspWriteIncompleteException : EspException
{
    public EspWriteIncompleteException(EspErrorCode code, string cause, IReadOnlyList<FlashSpan> verified,
        IReadOnlyList<FlashSpan> unverified, IReadOnlyList<FlashSpan> notWritten, string? help = null, Exception? inner = null, int attempts = 1)
        : base(code, Describe(cause, verified, unverified, notWritten, attempts), help ?? DefaultHelp(code), inner)
    {
        Cause = cause;
        Verified = FlashSpan.Normalize(verified);
        Unverified = FlashSpan.Normalize(unverified);
        NotWritten = FlashSpan.Normalize(notWritten);
        Attempts = attempts;
    }

    /// <summary>The underlying failure, without the range report.</summary>
    public string Cause { get; }
    /// <summary>Written and confirmed by the chip's MD5.</summary>
    public IReadOnlyList<FlashSpan> Verified { get; }
    /// <summary>Sent and acknowledged by the chip, not yet checked with an MD5.</summary>
    public IReadOnlyList<FlashSpan> Unverified { get; }
    /// <summary>Not written (may be erased or still hold the old contents).</summary>
    public IReadOnlyList<FlashSpan> NotWritten { get; }
    /// <summary>How many sessions tried.</summary>
    public int Attempts { get; }

    /// <summary>Bytes known good.</summary>
    public long VerifiedBytes => Verified.Sum(s => s.Length);

    private static string DefaultHelp(EspErrorCode code) =>
        EspErrorHelp.For(code) + " Running the same deploy again compares sector MD5s on the chip and writes only what is missing.";

    private static string Describe(string cause, IReadOnlyList<FlashSpan> verified, IReadOnlyList<FlashSpan> unverified,
        IReadOnlyList<FlashSpan> notWritten, int attempts)
    {
        var sb = new StringBuilder(cause.TrimEnd('.'));
        if (attempts > 1) sb.Append($" (after {attempts} attempts)");
        sb.Append(". The write is incomplete: ");
        var parts = new List<string>();
        if (FlashSpan.Normalize(verified) is { Count: > 0 } v) parts.Add($"{Join(v)} written and verified");
        if (FlashSpan.Normalize(unverified) is { Count: > 0 } u) parts.Add($"{Join(u)} written but not verified");
        if (FlashSpan.Normalize(notWritten) is { Count: > 0 } n) parts.Add($"{Join(n)} not written");
        if (parts.Count == 0) parts.Add("nothing was written");
        sb.Append(string.Join(", ", parts)).Append('.');
        return sb.ToString();
    }

    private static string Join(IReadOnlyList<FlashSpan> spans) => string.Join(" and ", spans.Select(s => s.ToString()));
}
