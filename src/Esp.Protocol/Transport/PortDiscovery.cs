using System.IO.Ports;
using Esp.Protocol.Errors;
using Esp.Protocol.Transport.Discovery;

namespace Esp.Protocol.Transport;

/// <summary>
/// Lists serial ports with their USB identity and picks the default one. The identity comes from sysfs on Linux
/// (<see cref="ListLinux"/>), the registry on Windows (<see cref="ListWindows"/>) and ioreg on macOS
/// (<see cref="ListMacOS"/>); elsewhere only the port names are known.
/// </summary>
public static class PortDiscovery
{
    public const int EspressifVid = 0x303A;
    public const int UsbJtagSerialPid = 0x1001;

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
        if (OperatingSystem.IsWindows())
            return ListWindows(new LiveRegistryView());
        if (OperatingSystem.IsMacOS())
            return IoregPorts.ListThisHost();
        return PortNamesOnly();
    }

    /// <summary>
    /// Lists the tty devices of a Linux sysfs tree (<paramref name="sysRoot"/> is normally <c>/sys</c>,
    /// <paramref name="devRoot"/> normally <c>/dev</c>; tests pass a fake tree). Ports without a device link
    /// (virtual consoles) and legacy ttyS placeholders without hardware are left out.
    /// </summary>
    public static IReadOnlyList<SerialPortInfo> ListLinux(string sysRoot, string devRoot) => LinuxSysfsPorts.List(sysRoot, devRoot);

    /// <summary>
    /// Lists the COM ports present in a Windows registry (the live one, or recorded contents in tests) with the USB
    /// VID, PID, serial number, manufacturer and product of the device behind each.
    /// </summary>
    public static IReadOnlyList<SerialPortInfo> ListWindows(IRegistryView registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        return WindowsRegistryPorts.List(registry);
    }

    /// <summary>
    /// Lists the macOS serial ports described by the property list of <c>ioreg -r -c IOUSBHostDevice -l -a</c>
    /// (<paramref name="ioregPlist"/>; /dev/cu.* paths with USB identity), followed by the other callout devices
    /// (<paramref name="calloutDevices"/>, the /dev/cu.* entries) without one.
    /// </summary>
    public static IReadOnlyList<SerialPortInfo> ListMacOS(string ioregPlist, IEnumerable<string> calloutDevices)
    {
        ArgumentNullException.ThrowIfNull(ioregPlist);
        ArgumentNullException.ThrowIfNull(calloutDevices);
        return IoregPorts.List(ioregPlist, calloutDevices);
    }

    /// <summary>USB vendor/product id of a Linux serial device path (symlinks such as by-id resolved), or null.</summary>
    public static (int Vid, int Pid)? UsbIdOf(string devicePath, string sysRoot = "/sys") => LinuxSysfsPorts.UsbIdOf(devicePath, sysRoot);

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

    private static List<SerialPortInfo> PortNamesOnly()
    {
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
}
