using System.Globalization;

namespace Esp.Protocol.Transport.Discovery;

/// <summary>The order ports are listed in on every system: known ESP bridges, other USB ports, the rest; by name within each.</summary>
internal static class PortOrder
{
    public static void Sort(List<SerialPortInfo> ports) =>
        ports.Sort((a, b) => Rank(a).CompareTo(Rank(b)) is var c and not 0 ? c : NaturalCompare(a.Path, b.Path));

    private static int Rank(SerialPortInfo p) => p.IsKnownBridge ? 0 : p.Vid is not null ? 1 : 2;

    // COM3 before COM10, ttyUSB2 before ttyUSB10: a trailing number compares as a number.
    private static int NaturalCompare(string a, string b)
    {
        int i = a.Length, j = b.Length;
        while (i > 0 && char.IsAsciiDigit(a[i - 1])) i--;
        while (j > 0 && char.IsAsciiDigit(b[j - 1])) j--;
        int c = string.CompareOrdinal(a[..i], b[..j]);
        if (c != 0) return c;
        var na = i < a.Length && long.TryParse(a[i..], NumberStyles.None, CultureInfo.InvariantCulture, out var x) ? x : -1;
        var nb = j < b.Length && long.TryParse(b[j..], NumberStyles.None, CultureInfo.InvariantCulture, out var y) ? y : -1;
        return na.CompareTo(nb);
    }
}
