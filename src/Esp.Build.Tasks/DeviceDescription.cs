using System.Text.RegularExpressions;
using Esp.Protocol.Chips;
using Esp.Protocol.Transport;

namespace Esp.Build.Tasks;

/// <summary>How <c>dotnet run --list-devices</c> describes a port: its USB product and bridge, and the chip when it is known.</summary>
internal static class DeviceDescription
{
    // Longest names first, so that "ESP32-C61" is not taken for "ESP32-C6" nor "ESP32-S3" for "ESP32".
    private static readonly (string Name, Regex Pattern)[] ChipNames = [.. ChipDatabase.All
        .OrderByDescending(c => c.Name.Length)
        .Select(c => (c.Name, new Regex($@"(?<![A-Za-z0-9]){Regex.Escape(c.Name).Replace("-", "-?", StringComparison.Ordinal)}(?![A-Za-z0-9])",
            RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)))];

    /// <summary>The bridge as people know it, e.g. "CP210x USB-UART bridge".</summary>
    public static string Bridge(UsbBridgeKind kind) => kind switch
    {
        UsbBridgeKind.Cp210x => "CP210x USB-UART bridge",
        UsbBridgeKind.Ch34x => "CH340/CH9102 USB-UART bridge",
        UsbBridgeKind.Ftdi => "FTDI USB-UART bridge",
        UsbBridgeKind.EspressifUsbJtagSerial => "the chip's USB-Serial/JTAG",
        UsbBridgeKind.EspressifUsb => "Espressif USB",
        _ => "serial port",
    };

    /// <summary>
    /// The chip a port's USB identity names (boards with the chip's own USB often say "ESP32-S3" in their product
    /// string); null when it does not: a USB-UART bridge says nothing about the chip behind it.
    /// </summary>
    public static string? ChipOf(SerialPortInfo port)
    {
        var text = string.Join(' ', new[] { port.Manufacturer, port.Product }.Where(s => !string.IsNullOrWhiteSpace(s)));
        return text.Length == 0 ? null : ChipNames.FirstOrDefault(c => c.Pattern.IsMatch(text)).Name;
    }

    /// <summary>e.g. "Silicon Labs CP2102N USB to UART Bridge Controller, CP210x USB-UART bridge".</summary>
    public static string Of(SerialPortInfo port)
    {
        var product = string.Join(' ', new[] { port.Manufacturer, port.Product }.Where(s => !string.IsNullOrWhiteSpace(s)));
        var parts = new List<string>();
        if (product.Length > 0) parts.Add(product);
        parts.Add(Bridge(port.Bridge));
        if (ChipOf(port) is { } chip && !product.Contains(chip, StringComparison.OrdinalIgnoreCase)) parts.Add(chip);
        return string.Join(", ", parts);
    }

    /// <summary>The chip a <c>sim:</c> port simulates (<c>sim:</c> alone is an ESP32), or null for another scheme.</summary>
    public static string? VirtualChipOf(string port)
    {
        if (!IsVirtual(port)) return null;
        var key = port["sim:".Length..].Split('?', 2)[0];
        return key.Length == 0 ? "ESP32" : ChipDatabase.TryGet(key)?.Name ?? key;
    }

    public static bool IsVirtual(string port) => port.StartsWith("sim:", StringComparison.OrdinalIgnoreCase);
}
