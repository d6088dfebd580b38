using System.Globalization;
using Esp.Protocol.Errors;

namespace Esp.Build.Tasks;

/// <summary>Numbers as users write them in MSBuild: 4096, 0x1000, 4k, 4M, 4MB.</summary>
internal static class Numbers
{
    public static uint ParseUInt(string? text, string name)
    {
        if (!TryParse(text, out var value))
            throw new EspException(EspErrorCode.InvalidNumber, $"{name} '{text}' is not a number.");
        return value;
    }

    public static bool TryParse(string? text, out uint value)
    {
        value = 0;
        if (string.IsNullOrWhiteSpace(text)) return false;
        var s = text.Trim().Replace("_", "", StringComparison.Ordinal);
        ulong multiplier = 1;
        if (s.EndsWith("MB", StringComparison.OrdinalIgnoreCase)) { multiplier = 1 << 20; s = s[..^2]; }
        else if (s.EndsWith("KB", StringComparison.OrdinalIgnoreCase)) { multiplier = 1 << 10; s = s[..^2]; }
        else if (!s.StartsWith("0x", StringComparison.OrdinalIgnoreCase) && s.EndsWith('M')) { multiplier = 1 << 20; s = s[..^1]; }
        else if (!s.StartsWith("0x", StringComparison.OrdinalIgnoreCase) && s.EndsWith('k')) { multiplier = 1 << 10; s = s[..^1]; }
        ulong v;
        bool ok = s.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? ulong.TryParse(s.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out v)
            : ulong.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out v);
        if (!ok) return false;
        v *= multiplier;
        if (v > uint.MaxValue) return false;
        value = (uint)v;
        return true;
    }

    public static string Hex(uint v) => $"0x{v:X8}";
}
