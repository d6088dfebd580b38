using System.Globalization;

namespace Esp.Protocol.Transport.Discovery;

/// <summary>
/// The USB identity in a device id under <c>HKLM\SYSTEM\CurrentControlSet\Enum</c>: <c>USB\VID_10C4&amp;PID_EA60</c>, an
/// interface of a composite device <c>USB\VID_303A&amp;PID_1001&amp;MI_00</c>, or FTDI's own bus
/// <c>FTDIBUS\VID_0403+PID_6001+A50285BIA</c>, which carries the serial number followed by the channel letter.
/// </summary>
internal readonly record struct WindowsDeviceId(int Vid, int Pid, int? Interface = null, string? FtdiSerial = null)
{
    /// <summary>Parses a device id of the USB enumerator; null for other keys there (root hubs and the like).</summary>
    public static WindowsDeviceId? ParseUsb(string deviceId)
    {
        var parts = deviceId.Split('&');
        if (parts.Length is < 2 or > 3 || Hex(parts[0], "VID_") is not { } vid || Hex(parts[1], "PID_") is not { } pid) return null;
        if (parts.Length == 2) return new WindowsDeviceId(vid, pid);
        return Hex(parts[2], "MI_") is { } mi ? new WindowsDeviceId(vid, pid, mi) : null;
    }

    /// <summary>Parses a device id of the FTDIBUS enumerator.</summary>
    public static WindowsDeviceId? ParseFtdiBus(string deviceId)
    {
        var parts = deviceId.Split('+');
        if (parts.Length != 3 || Hex(parts[0], "VID_") is not { } vid || Hex(parts[1], "PID_") is not { } pid) return null;
        // The channel letter is A on single-port chips (FT232R), A..D on multi-port ones (FT2232H, FT4232H).
        var tail = parts[2];
        var serial = tail.Length > 1 && tail[^1] is >= 'A' and <= 'D' ? tail[..^1] : null;
        return new WindowsDeviceId(vid, pid, FtdiSerial: serial is null || serial.Contains('&') ? null : serial);
    }

    private static int? Hex(string part, string prefix) =>
        part.Length == prefix.Length + (prefix == "MI_" ? 2 : 4)
        && part.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)
        && int.TryParse(part.AsSpan(prefix.Length), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var v)
            ? v
            : null;
}
