using System.Globalization;
using System.Xml;
using System.Xml.Linq;

namespace Esp.Protocol.Transport.Discovery;

/// <summary>
/// Serial ports of macOS from <c>ioreg -r -c IOUSBHostDevice -l -a</c>: a property list (XML) holding an array of the
/// USB devices, each a dict of its properties (<c>idVendor</c>, <c>idProduct</c>, <c>USB Vendor Name</c>,
/// <c>USB Product Name</c>, <c>USB Serial Number</c>) with <c>IOObjectClass</c> and its subtree under
/// <c>IORegistryEntryChildren</c>. A serial port is the <c>IOSerialBSDClient</c> somewhere below its device (under the
/// interface and the driver), whose <c>IOCalloutDevice</c> is the /dev/cu.* path. Devices behind a hub sit in the hub's
/// subtree, so a port belongs to the nearest device above it.
/// </summary>
internal static class IoregPorts
{
    private const string Ioreg = "/usr/sbin/ioreg";
    private static readonly string[] IoregArguments = ["-r", "-c", "IOUSBHostDevice", "-l", "-a"];
    private static readonly TimeSpan IoregTimeout = TimeSpan.FromSeconds(5);
    private const int MaxDepth = 64;

    private static readonly XmlReaderSettings Settings = new()
    {
        DtdProcessing = DtdProcessing.Ignore, // the plist DOCTYPE names Apple's DTD; nothing is fetched
        XmlResolver = null,
        CheckCharacters = false,              // device strings may hold control characters
        IgnoreComments = true,
    };

    /// <summary>This Mac's ports: the USB ones ioreg describes, then the other /dev/cu.* devices by name.</summary>
    public static IReadOnlyList<SerialPortInfo> ListThisHost()
    {
        var plist = File.Exists(Ioreg) ? ChildProcessOutput.Run(Ioreg, IoregArguments, IoregTimeout) : null;
        return List(plist ?? "", CalloutDevices("/dev"));
    }

    /// <summary>The USB ports in <paramref name="plist"/>, then the other callout devices of <paramref name="calloutDevices"/>.</summary>
    public static IReadOnlyList<SerialPortInfo> List(string plist, IEnumerable<string> calloutDevices)
    {
        var result = Parse(plist).ToList();
        foreach (var path in calloutDevices)
        {
            if (!result.Any(p => p.Path == path)) result.Add(new SerialPortInfo(path));
        }
        PortOrder.Sort(result);
        return result;
    }

    /// <summary>The serial ports below USB devices in ioreg's property list; none when it is not one.</summary>
    public static IReadOnlyList<SerialPortInfo> Parse(string plist)
    {
        XElement? top;
        try
        {
            using var reader = XmlReader.Create(new StringReader(plist), Settings);
            top = XDocument.Load(reader).Root?.Elements().FirstOrDefault();
        }
        catch (XmlException)
        {
            return [];
        }
        var ports = new List<SerialPortInfo>();
        if (top is not null) Visit(top, null, ports, 0);
        return ports;
    }

    private sealed record UsbDevice(int? Vid, int? Pid, string? Vendor, string? Product, string? Serial);

    private static void Visit(XElement node, UsbDevice? device, List<SerialPortInfo> ports, int depth)
    {
        if (depth > MaxDepth) return;
        if (node.Name == "array")
        {
            foreach (var child in node.Elements("dict")) Visit(child, device, ports, depth + 1);
            return;
        }
        if (node.Name != "dict") return;
        var entries = Entries(node);
        if (IsUsbDevice(entries))
        {
            device = new UsbDevice(Integer(entries, "idVendor"), Integer(entries, "idProduct"),
                Text(entries, "USB Vendor Name") ?? Text(entries, "kUSBVendorString"),
                Text(entries, "USB Product Name") ?? Text(entries, "kUSBProductString"),
                Text(entries, "USB Serial Number") ?? Text(entries, "kUSBSerialNumberString"));
        }
        if (Text(entries, "IOCalloutDevice") is { } callout && !ports.Any(p => p.Path == callout))
        {
            ports.Add(device is null
                ? new SerialPortInfo(callout)
                : new SerialPortInfo(callout, device.Vid, device.Pid, device.Vendor, device.Product, device.Serial));
        }
        if (entries.TryGetValue("IORegistryEntryChildren", out var children)) Visit(children, device, ports, depth + 1);
    }

    // The class is IOUSBHostDevice or, on some Macs, a subclass (AppleUSBDevice). Interfaces and drivers below a device
    // repeat idVendor/idProduct but never the device descriptor's own fields.
    private static bool IsUsbDevice(Dictionary<string, XElement> entries) =>
        Text(entries, "IOObjectClass") is "IOUSBHostDevice" or "IOUSBDevice" or "AppleUSBDevice"
        || (Integer(entries, "idVendor") is not null && Integer(entries, "idProduct") is not null
            && !entries.ContainsKey("bInterfaceNumber")
            && (entries.ContainsKey("bDeviceClass") || entries.ContainsKey("bMaxPacketSize0") || entries.ContainsKey("bNumConfigurations")));

    // A plist dict is <key>name</key> followed by its value element, pair after pair.
    private static Dictionary<string, XElement> Entries(XElement dict)
    {
        var entries = new Dictionary<string, XElement>(StringComparer.Ordinal);
        string? key = null;
        foreach (var element in dict.Elements())
        {
            if (element.Name == "key") key = element.Value;
            else if (key is not null)
            {
                entries.TryAdd(key, element);
                key = null;
            }
        }
        return entries;
    }

    private static string? Text(Dictionary<string, XElement> entries, string key) =>
        entries.TryGetValue(key, out var e) && e.Name == "string" && e.Value.Trim() is { Length: > 0 } text ? text : null;

    private static int? Integer(Dictionary<string, XElement> entries, string key) =>
        entries.TryGetValue(key, out var e) && e.Name == "integer"
        && int.TryParse(e.Value.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v) ? v : null;

    private static IEnumerable<string> CalloutDevices(string devRoot)
    {
        try
        {
            return [.. Directory.EnumerateFileSystemEntries(devRoot, "cu.*")];
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }
}
