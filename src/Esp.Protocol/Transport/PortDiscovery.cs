using System.Globalization;
using System.IO.Ports;
using System.Text;
using Esp.Protocol.Errors;
using Esp.Protocol.Transport.Native;

namespace Esp.Protocol.Transport;

/// <summary>The USB-to-UART bridges ESP boards carry.</summary>
public enum UsbBridgeKind
{
    /// <summary>Not a known ESP bridge (or not USB at all).</summary>
    None,
    /// <summary>Silicon Labs CP210x (10C4:EA60; the CP2102C's 10C4:EA64 too).</summary>
    Cp210x,
    /// <summary>WCH CH340 / CH341 / CH9102 (1A86:*).</summary>
    Ch34x,
    /// <summary>FTDI (0403:*).</summary>
    Ftdi,
    /// <summary>The chip's own USB-Serial-JTAG peripheral (303A:1001).</summary>
    EspressifUsbJtagSerial,
    /// <summary>Another Espressif USB device (303A:*, e.g. USB-OTG CDC).</summary>
    EspressifUsb,
}

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

/// <summary>
/// Lists serial ports and picks the default one. On Linux the USB identity comes from sysfs
/// (<c>/sys/class/tty/NAME/device</c>, walking up to the USB device's idVendor/idProduct/manufacturer/product)
/// and <c>/dev/serial/by-id</c>; elsewhere only the port names are known.
/// </summary>
public static class PortDiscovery
{
    public const int EspressifVid = 0x303A;
    public const int UsbJtagSerialPid = 0x1001;

    private static readonly string[] LinuxPrefixes = ["ttyUSB", "ttyACM", "ttyAMA", "ttyTHS", "ttyXRUSB", "rfcomm", "ttyS"];

    public static UsbBridgeKind Classify(int? vid, int? pid) => (vid, pid) switch
    {
        (0x10C4, 0xEA60 or 0xEA64 or 0xEA70 or 0xEA71) => UsbBridgeKind.Cp210x,
        (0x1A86, _) => UsbBridgeKind.Ch34x,
        (0x0403, _) => UsbBridgeKind.Ftdi,
        (EspressifVid, UsbJtagSerialPid) => UsbBridgeKind.EspressifUsbJtagSerial,
        (EspressifVid, _) => UsbBridgeKind.EspressifUsb,
        _ => UsbBridgeKind.None,
    };

    /// <summary>The serial ports of this host.</summary>
    public static IReadOnlyList<SerialPortInfo> List()
    {
        if (OperatingSystem.IsLinux() && Directory.Exists("/sys/class/tty"))
            return ListLinux("/sys", "/dev");
        string[] names;
        try
        {
            names = SerialPort.GetPortNames();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or PlatformNotSupportedException)
        {
            names = [];
        }
        return names.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).Select(n => new SerialPortInfo(n)).ToList();
    }

    /// <summary>
    /// Lists the tty devices of a Linux sysfs tree (<paramref name="sysRoot"/> is normally <c>/sys</c>,
    /// <paramref name="devRoot"/> normally <c>/dev</c>; tests pass a fake tree). Ports without a device link
    /// (virtual consoles) and legacy ttyS placeholders without hardware are left out.
    /// </summary>
    public static IReadOnlyList<SerialPortInfo> ListLinux(string sysRoot, string devRoot)
    {
        var ttyRoot = Path.Combine(sysRoot, "class", "tty");
        if (!Directory.Exists(ttyRoot)) return [];
        var byId = ReadById(devRoot);
        var result = new List<SerialPortInfo>();
        foreach (var entry in Directory.EnumerateFileSystemEntries(ttyRoot))
        {
            var name = Path.GetFileName(entry);
            var deviceLink = Path.Combine(entry, "device");
            if (!Directory.Exists(deviceLink)) continue;
            var usb = FindUsbDevice(deviceLink);
            if (usb is null)
            {
                // ttyS0..31 exist on every PC whether or not a UART is fitted; only list them with real hardware.
                if (name.StartsWith("ttyS", StringComparison.Ordinal) && IsPlatformPlaceholder(deviceLink)) continue;
                if (!LinuxPrefixes.Any(p => name.StartsWith(p, StringComparison.Ordinal))) continue;
            }
            var path = Path.Combine(devRoot, name);
            byId.TryGetValue(name, out var idName);
            result.Add(usb is null
                ? new SerialPortInfo(path, ById: idName)
                : new SerialPortInfo(path, usb.Value.Vid, usb.Value.Pid,
                    ReadAttr(usb.Value.Dir, "manufacturer"), ReadAttr(usb.Value.Dir, "product"), ReadAttr(usb.Value.Dir, "serial"), idName));
        }
        result.Sort((a, b) => Rank(a).CompareTo(Rank(b)) is var c and not 0 ? c : NaturalCompare(a.Path, b.Path));
        return result;

        static int Rank(SerialPortInfo p) => p.IsKnownBridge ? 0 : p.Vid is not null ? 1 : 2;
    }

    /// <summary>USB vendor/product id of a Linux serial device path (symlinks such as by-id resolved), or null.</summary>
    public static (int Vid, int Pid)? UsbIdOf(string devicePath, string sysRoot = "/sys")
    {
        var real = UnixSerialNative.RealPath(devicePath) ?? devicePath;
        var deviceLink = Path.Combine(sysRoot, "class", "tty", Path.GetFileName(real), "device");
        if (!Directory.Exists(deviceLink)) return null;
        return FindUsbDevice(deviceLink) is { } u ? (u.Vid, u.Pid) : null;
    }

    /// <summary>
    /// The port to use when none was named: the single known ESP USB bridge among <paramref name="candidates"/>. With
    /// none or several, an error that lists the candidates and says (<paramref name="help"/>) which setting names the port.
    /// </summary>
    /// <exception cref="EspException">PortNotSpecified when none is found, PortAmbiguous when several are.</exception>
    public static SerialPortInfo ChooseDefault(IReadOnlyList<SerialPortInfo> candidates, string? help = null)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        var known = candidates.Where(c => c.IsKnownBridge).ToList();
        if (known.Count == 1) return known[0];
        help ??= "Set the port explicitly with EspPort (MSBuild), --port (command line) or the ESPTOOL_PORT environment variable.";
        if (known.Count == 0)
        {
            var listing = candidates.Count == 0
                ? "No serial ports were found."
                : "No ESP USB bridge (CP210x, CH340/CH9102, FTDI, Espressif USB) was found among: " + string.Join("; ", candidates) + ".";
            throw new EspException(EspErrorCode.PortNotSpecified, $"No port was given and none could be chosen. {listing}", help);
        }
        throw new EspException(EspErrorCode.PortAmbiguous,
            $"No port was given and {known.Count} ESP USB bridges were found: {string.Join("; ", known)}.", help);
    }

    private static (int Vid, int Pid, string Dir)? FindUsbDevice(string deviceLink)
    {
        var dir = UnixSerialNative.RealPath(deviceLink);
        for (int depth = 0; dir is not null && depth < 8; depth++, dir = Path.GetDirectoryName(dir))
        {
            var vid = ReadHex(dir, "idVendor");
            var pid = ReadHex(dir, "idProduct");
            if (vid is not null && pid is not null) return (vid.Value, pid.Value, dir);
        }
        return null;
    }

    private static bool IsPlatformPlaceholder(string deviceLink)
    {
        var real = UnixSerialNative.RealPath(Path.Combine(deviceLink, "subsystem"));
        return real is null || Path.GetFileName(real) == "platform";
    }

    private static Dictionary<string, string> ReadById(string devRoot)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        var dir = Path.Combine(devRoot, "serial", "by-id");
        if (!Directory.Exists(dir)) return map;
        foreach (var link in Directory.EnumerateFileSystemEntries(dir))
        {
            var target = UnixSerialNative.RealPath(link);
            if (target is not null) map.TryAdd(Path.GetFileName(target), link);
        }
        return map;
    }

    private static string? ReadAttr(string dir, string name)
    {
        try
        {
            var file = Path.Combine(dir, name);
            return File.Exists(file) ? File.ReadAllText(file).Trim() : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static int? ReadHex(string dir, string name) =>
        int.TryParse(ReadAttr(dir, name), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var v) ? v : null;

    private static int NaturalCompare(string a, string b)
    {
        int i = a.Length, j = b.Length;
        while (i > 0 && char.IsAsciiDigit(a[i - 1])) i--;
        while (j > 0 && char.IsAsciiDigit(b[j - 1])) j--;
        int c = string.CompareOrdinal(a[..i], b[..j]);
        if (c != 0) return c;
        long na = i < a.Length ? long.Parse(a[i..], CultureInfo.InvariantCulture) : -1;
        long nb = j < b.Length ? long.Parse(b[j..], CultureInfo.InvariantCulture) : -1;
        return na.CompareTo(nb);
    }
}
