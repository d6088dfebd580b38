using System.Globalization;

namespace Esp.Protocol.Text;

/// <summary>
/// Numbers as people write them for esptool, on the command line and in MSBuild properties alike: decimal,
/// <c>0x</c> hex, <c>0o</c> octal or <c>0b</c> binary, underscores allowed as separators; sizes may end in
/// k/K/KB/KiB (1024) or M/MB/MiB (1024²).
/// </summary>
public static class NumberText
{
    private static readonly (string Suffix, ulong Multiplier)[] Suffixes =
    [
        ("kib", 1024), ("kb", 1024), ("k", 1024),
        ("mib", 1024 * 1024), ("mb", 1024 * 1024), ("m", 1024 * 1024),
    ];

    /// <summary>Parses <paramref name="text"/>; <paramref name="allowSizeSuffix"/> also takes k/M suffixes.</summary>
    /// <returns>False for anything else, including values that do not fit in 64 bits.</returns>
    public static bool TryParse(string? text, bool allowSizeSuffix, out ulong value)
    {
        value = 0;
        if (string.IsNullOrWhiteSpace(text)) return false;
        var s = text.Trim().Replace("_", "", StringComparison.Ordinal);
        ulong multiplier = 1;
        if (allowSizeSuffix)
        {
            string lower = s.ToLowerInvariant();
            foreach (var (suffix, m) in Suffixes)
            {
                if (lower.EndsWith(suffix, StringComparison.Ordinal) && lower.Length > suffix.Length)
                {
                    s = s[..^suffix.Length];
                    multiplier = m;
                    break;
                }
            }
        }
        ulong n;
        if (s.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
        {
            if (!ulong.TryParse(s.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out n)) return false;
        }
        else if (s.StartsWith("0b", StringComparison.OrdinalIgnoreCase))
        {
            if (!TryParseBase(s[2..], 2, out n)) return false;
        }
        else if (s.StartsWith("0o", StringComparison.OrdinalIgnoreCase))
        {
            if (!TryParseBase(s[2..], 8, out n)) return false;
        }
        else if (!ulong.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out n))
        {
            return false;
        }
        try
        {
            value = checked(n * multiplier);
            return true;
        }
        catch (OverflowException)
        {
            return false;
        }
    }

    /// <summary>As <see cref="TryParse(string?, bool, out ulong)"/>, for values that fit in 32 bits.</summary>
    public static bool TryParseUInt32(string? text, bool allowSizeSuffix, out uint value)
    {
        value = 0;
        if (!TryParse(text, allowSizeSuffix, out var v) || v > uint.MaxValue) return false;
        value = (uint)v;
        return true;
    }

    private static bool TryParseBase(string digits, int radix, out ulong value)
    {
        value = 0;
        if (digits.Length == 0) return false;
        foreach (char c in digits)
        {
            int d = c - '0';
            if (d < 0 || d >= radix) return false;
            try { value = checked(value * (ulong)radix + (ulong)d); }
            catch (OverflowException) { return false; }
        }
        return true;
    }
}
