using System.Text;

namespace Esp.Protocol.Transport;

/// <summary>One serial port found on the host.</summary>
public sealed record SerialPortInfo(
    string Path,
    int? Vid = null,
    int? Pid = null,
    string? Manufacturer = null,
    string? Product = null,
    string? SerialNumber = null,
    string? ById = null)
{
    public UsbBridgeKind Bridge => PortDiscovery.Classify(Vid, Pid);

    public bool IsKnownBridge => Bridge != UsbBridgeKind.None;

    /// <summary>One line for listings, e.g. <c>/dev/ttyUSB0 (10C4:EA60 Silicon Labs CP2102N, CP210x)</c>.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder(Path);
        var parts = new List<string>();
        if (Vid is { } v && Pid is { } p) parts.Add($"{v:X4}:{p:X4}");
        var desc = string.Join(' ', new[] { Manufacturer, Product }.Where(s => !string.IsNullOrWhiteSpace(s)));
        if (desc.Length > 0) parts.Add(desc);
        if (Bridge != UsbBridgeKind.None) parts.Add(Bridge.ToString());
        if (parts.Count > 0) sb.Append(" (").Append(string.Join(", ", parts)).Append(')');
        return sb.ToString();
    }
}
