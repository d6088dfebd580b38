using System.Globalization;
using Esp.Protocol.Transport.Native;

namespace Esp.Protocol.Transport.Discovery;

/// <summary>
/// Serial ports from a Linux sysfs tree: <c>/sys/class/tty/NAME/device</c>, walking up to the USB device's
/// idVendor/idProduct/manufacturer/product/serial, and the <c>/dev/serial/by-id</c> links.
/// </summary>
internal static class LinuxSysfsPorts
{
    private static readonly string[] Prefixes = ["ttyUSB", "ttyACM", "ttyAMA", "ttyTHS", "ttyXRUSB", "rfcomm", "ttyS"];

    public static IReadOnlyList<SerialPortInfo> List(string sysRoot, string devRoot)
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
                if (!Prefixes.Any(p => name.StartsWith(p, StringComparison.Ordinal))) continue;
            }
            var path = Path.Combine(devRoot, name);
            byId.TryGetValue(name, out var idName);
            result.Add(usb is null
                ? new SerialPortInfo(path, ById: idName)
                : new SerialPortInfo(path, usb.Value.Vid, usb.Value.Pid,
                    ReadAttr(usb.Value.Dir, "manufacturer"), ReadAttr(usb.Value.Dir, "product"), ReadAttr(usb.Value.Dir, "serial"), idName));
        }
        PortOrder.Sort(result);
        return result;
    }

    public static (int Vid, int Pid)? UsbIdOf(string devicePath, string sysRoot)
    {
        var real = UnixSerialNative.RealPath(devicePath) ?? devicePath;
        var deviceLink = Path.Combine(sysRoot, "class", "tty", Path.GetFileName(real), "device");
        if (!Directory.Exists(deviceLink)) return null;
        return FindUsbDevice(deviceLink) is { } u ? (u.Vid, u.Pid) : null;
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
}
