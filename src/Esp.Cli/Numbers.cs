using System.Globalization;
using Esp.Protocol.Errors;

namespace Esp.Cli;

/// <summary>Numbers as esptool reads them: decimal, <c>0x</c> hex, <c>0o</c>/<c>0b</c>; sizes may end in k/M (binary units).</summary>
internal static class Numbers
{
    /// <summary>An address or value: decimal, 0x hex, 0o octal or 0b binary (underscores allowed as separators).</summary>
    public static uint ParseUInt(string? text, string what)
    {
        if (TryParseULong(text, allowSuffix: false, out var v) && v <= uint.MaxValue) return (uint)v;
        throw Bad(text, what);
    }

    /// <summary>A size: a number as <see cref="ParseUInt"/> optionally followed by k/K/KB/KiB (1024) or M/MB/MiB (1024²).</summary>
    public static uint ParseSize(string? text, string what)
    {
        if (TryParseULong(text, allowSuffix: true, out var v) && v <= uint.MaxValue) return (uint)v;
        throw Bad(text, what);
    }

    public static int ParseInt(string? text, string what, int min = int.MinValue, int max = int.MaxValue)
    {
        if (TryParseULong(text, allowSuffix: false, out var v) && v <= int.MaxValue && (int)v >= min && (int)v <= max) return (int)v;
        throw new UsageException(EspErrorCode.InvalidNumber,
            $"'{text}' is not a valid {what}" + (min != int.MinValue || max != int.MaxValue ? $" (expected {min}..{max})." : "."));
    }

    private static UsageException Bad(string? text, string what) =>
        new(EspErrorCode.InvalidNumber, $"'{text}' is not a valid {what}.");

    public static bool TryParseULong(string? text, bool allowSuffix, out ulong value)
    {
        value = 0;
        if (string.IsNullOrWhiteSpace(text)) return false;
        var s = text.Trim().Replace("_", "", StringComparison.Ordinal);
        ulong multiplier = 1;
        if (allowSuffix)
        {
            string lower = s.ToLowerInvariant();
            foreach (var (suffix, m) in Suffixes)
            {
                if (lower.EndsWith(suffix, StringComparison.Ordinal) && lower.Length > suffix.Length && !(suffix == "b" && lower.StartsWith("0x", StringComparison.Ordinal)))
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

    private static readonly (string Suffix, ulong Multiplier)[] Suffixes =
    [
        ("kib", 1024), ("kb", 1024), ("k", 1024),
        ("mib", 1024 * 1024), ("mb", 1024 * 1024), ("m", 1024 * 1024),
    ];

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

    /// <summary>4096 → "4 KiB", 4194304 → "4 MiB", 1000 → "1000 bytes".</summary>
    public static string FormatBytes(long n) => n switch
    {
        >= 1024 * 1024 when n % (1024 * 1024) == 0 => $"{n / (1024 * 1024)} MiB",
        >= 1024 when n % 1024 == 0 => $"{n / 1024} KiB",
        1 => "1 byte",
        _ => $"{n} bytes",
    };

    public static string Hex32(uint v) => $"0x{v:x8}";
}
