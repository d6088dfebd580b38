using Esp.Protocol.Errors;
using Esp.Protocol.Text;

namespace Esp.Cli;

/// <summary>Command-line numbers (rules: <see cref="NumberText"/>) as usage errors, and how the CLI prints sizes.</summary>
internal static class Numbers
{
    /// <summary>An address or value: decimal, 0x hex, 0o octal or 0b binary (underscores allowed as separators).</summary>
    public static uint ParseUInt(string? text, string what)
    {
        if (NumberText.TryParseUInt32(text, allowSizeSuffix: false, out var v)) return v;
        throw Bad(text, what);
    }

    /// <summary>A size: a number as <see cref="ParseUInt"/> optionally followed by k/K/KB/KiB (1024) or M/MB/MiB (1024²).</summary>
    public static uint ParseSize(string? text, string what)
    {
        if (NumberText.TryParseUInt32(text, allowSizeSuffix: true, out var v)) return v;
        throw Bad(text, what);
    }

    public static int ParseInt(string? text, string what, int min = int.MinValue, int max = int.MaxValue)
    {
        if (NumberText.TryParse(text, allowSizeSuffix: false, out var v) && v <= int.MaxValue && (int)v >= min && (int)v <= max) return (int)v;
        throw new UsageException(EspErrorCode.InvalidNumber,
            $"'{text}' is not a valid {what}" + (min != int.MinValue || max != int.MaxValue ? $" (expected {min}..{max})." : "."));
    }

    private static UsageException Bad(string? text, string what) =>
        new(EspErrorCode.InvalidNumber, $"'{text}' is not a valid {what}.");

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
