using Esp.Protocol.Errors;
using Esp.Protocol.Transport;

namespace Esp.Protocol.Tests.Transport;

/// <summary>A throw-away Linux sysfs + /dev tree shaped like the real one (symlinks included).</summary>
internal sealed class FakeSysfs : IDisposable
{
    public FakeSysfs()
    {
        Root = Directory.CreateTempSubdirectory("espbuild-sysfs-").FullName;
        Sys = Path.Combine(Root, "sys");
        Dev = Path.Combine(Root, "dev");
        Directory.CreateDirectory(Path.Combine(Sys, "class", "tty"));
        Directory.CreateDirectory(Path.Combine(Dev, "serial", "by-id"));
        Directory.CreateDirectory(Path.Combine(Sys, "bus", "platform"));
        // A virtual console (no device link) and a legacy ttyS placeholder on the platform bus.
        Directory.CreateDirectory(Path.Combine(Sys, "class", "tty", "tty0"));
        var platform = Path.Combine(Sys, "devices", "platform", "serial8250");
        Directory.CreateDirectory(platform);
        Directory.CreateSymbolicLink(Path.Combine(platform, "subsystem"), Path.Combine(Sys, "bus", "platform"));
        var ttyS0 = Path.Combine(platform, "tty", "ttyS0");
        Directory.CreateDirectory(ttyS0);
        Directory.CreateSymbolicLink(Path.Combine(ttyS0, "device"), "../..");
        Directory.CreateSymbolicLink(Path.Combine(Sys, "class", "tty", "ttyS0"), ttyS0);
    }

    public string Root { get; }
    public string Sys { get; }
    public string Dev { get; }

    /// <summary>Adds a USB serial device: usb-serial style (ttyUSB) or CDC-ACM style (ttyACM).</summary>
    public void AddUsb(string name, int bus, string vid, string pid, string? manufacturer = null, string? product = null, string? byId = null)
    {
        var usbDev = Path.Combine(Sys, "devices", "pci0000:00", $"usb{bus}", $"{bus}-1");
        Directory.CreateDirectory(usbDev);
        File.WriteAllText(Path.Combine(usbDev, "idVendor"), vid + "\n");
        File.WriteAllText(Path.Combine(usbDev, "idProduct"), pid + "\n");
        if (manufacturer is not null) File.WriteAllText(Path.Combine(usbDev, "manufacturer"), manufacturer + "\n");
        if (product is not null) File.WriteAllText(Path.Combine(usbDev, "product"), product + "\n");
        var iface = Path.Combine(usbDev, $"{bus}-1:1.0");
        string ttyDir, deviceTarget;
        if (name.StartsWith("ttyUSB", StringComparison.Ordinal))
        {
            ttyDir = Path.Combine(iface, name, "tty", name);   // usb-serial: device is the port node
            deviceTarget = "../..";
        }
        else
        {
            ttyDir = Path.Combine(iface, "tty", name);          // cdc-acm: device is the interface
            deviceTarget = "../..";
        }
        Directory.CreateDirectory(ttyDir);
        Directory.CreateSymbolicLink(Path.Combine(ttyDir, "device"), deviceTarget);
        Directory.CreateSymbolicLink(Path.Combine(Sys, "class", "tty", name), ttyDir);
        File.WriteAllText(Path.Combine(Dev, name), "");
        if (byId is not null) File.CreateSymbolicLink(Path.Combine(Dev, "serial", "by-id", byId), Path.Combine("..", "..", name));
    }

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { }
    }
}

public class PortDiscoveryTests
{
    [Fact]
    public void ListsUsbPortsWithIdentityAndSkipsConsoles()
    {
        if (!OperatingSystem.IsLinux()) return;
        using var fs = new FakeSysfs();
        fs.AddUsb("ttyUSB0", 1, "10c4", "ea60", "Silicon Labs", "CP2102N USB to UART Bridge Controller",
            byId: "usb-Silicon_Labs_CP2102N_0001-if00-port0");
        fs.AddUsb("ttyACM0", 2, "303a", "1001", "Espressif", "USB JTAG/serial debug unit");

        var ports = PortDiscovery.ListLinux(fs.Sys, fs.Dev);

        Assert.Equal(2, ports.Count);
        var cp = Assert.Single(ports, p => p.Path.EndsWith("ttyUSB0", StringComparison.Ordinal));
        Assert.Equal(Path.Combine(fs.Dev, "ttyUSB0"), cp.Path);
        Assert.Equal((0x10C4, 0xEA60), (cp.Vid, cp.Pid));
        Assert.Equal("Silicon Labs", cp.Manufacturer);
        Assert.Equal("CP2102N USB to UART Bridge Controller", cp.Product);
        Assert.Equal(UsbBridgeKind.Cp210x, cp.Bridge);
        Assert.EndsWith("usb-Silicon_Labs_CP2102N_0001-if00-port0", cp.ById);
        Assert.Contains("10C4:EA60", cp.ToString());

        var jtag = Assert.Single(ports, p => p.Path.EndsWith("ttyACM0", StringComparison.Ordinal));
        Assert.Equal(UsbBridgeKind.EspressifUsbJtagSerial, jtag.Bridge);
    }

    [Fact]
    public void UsbIdOfFollowsTheSysfsTree()
    {
        if (!OperatingSystem.IsLinux()) return;
        using var fs = new FakeSysfs();
        fs.AddUsb("ttyUSB3", 1, "1a86", "55d4");
        Assert.Equal((0x1A86, 0x55D4), PortDiscovery.UsbIdOf(Path.Combine(fs.Dev, "ttyUSB3"), fs.Sys));
        Assert.Null(PortDiscovery.UsbIdOf(Path.Combine(fs.Dev, "ttyS0"), fs.Sys));
    }

    [Theory]
    [InlineData(0x10C4, 0xEA60, UsbBridgeKind.Cp210x)]
    [InlineData(0x1A86, 0x7523, UsbBridgeKind.Ch34x)]
    [InlineData(0x1A86, 0x55D4, UsbBridgeKind.Ch34x)]
    [InlineData(0x0403, 0x6001, UsbBridgeKind.Ftdi)]
    [InlineData(0x0403, 0x6010, UsbBridgeKind.Ftdi)]
    [InlineData(0x303A, 0x1001, UsbBridgeKind.EspressifUsbJtagSerial)]
    [InlineData(0x303A, 0x0002, UsbBridgeKind.EspressifUsb)]
    [InlineData(0x2341, 0x0043, UsbBridgeKind.None)]
    public void ClassifiesBridges(int vid, int pid, UsbBridgeKind kind) => Assert.Equal(kind, PortDiscovery.Classify(vid, pid));

    [Fact]
    public void OneKnownBridgeIsChosen()
    {
        if (!OperatingSystem.IsLinux()) return;
        using var fs = new FakeSysfs();
        fs.AddUsb("ttyUSB0", 1, "10c4", "ea60");
        fs.AddUsb("ttyACM0", 2, "2341", "0043", "Arduino"); // a USB serial port that is not an ESP bridge
        var chosen = PortDiscovery.ChooseDefault(PortDiscovery.ListLinux(fs.Sys, fs.Dev));
        Assert.Equal(Path.Combine(fs.Dev, "ttyUSB0"), chosen.Path);
    }

    [Fact]
    public void TwoKnownBridgesAreAmbiguousAndListed()
    {
        if (!OperatingSystem.IsLinux()) return;
        using var fs = new FakeSysfs();
        fs.AddUsb("ttyUSB0", 1, "10c4", "ea60");
        fs.AddUsb("ttyUSB1", 2, "10c4", "ea60");
        var ex = Assert.Throws<EspException>(() => PortDiscovery.ChooseDefault(PortDiscovery.ListLinux(fs.Sys, fs.Dev)));
        Assert.Equal(EspErrorCode.PortAmbiguous, ex.Code);
        Assert.Contains(Path.Combine(fs.Dev, "ttyUSB0"), ex.Message);
        Assert.Contains(Path.Combine(fs.Dev, "ttyUSB1"), ex.Message);
        Assert.Contains("EspPort", ex.Help);
        Assert.Contains("--port", ex.Help);
        Assert.Contains("ESPTOOL_PORT", ex.Help);
    }

    [Fact]
    public void NoKnownBridgeIsPortNotSpecified()
    {
        if (!OperatingSystem.IsLinux()) return;
        using var fs = new FakeSysfs();
        fs.AddUsb("ttyACM0", 2, "2341", "0043", "Arduino");
        var ex = Assert.Throws<EspException>(() => PortDiscovery.ChooseDefault(PortDiscovery.ListLinux(fs.Sys, fs.Dev)));
        Assert.Equal(EspErrorCode.PortNotSpecified, ex.Code);
        Assert.Contains(Path.Combine(fs.Dev, "ttyACM0"), ex.Message);
        Assert.Contains("ESPTOOL_PORT", ex.Help);
    }

    [Fact]
    public void EmptyListIsPortNotSpecified()
    {
        var ex = Assert.Throws<EspException>(() => PortDiscovery.ChooseDefault([]));
        Assert.Equal(EspErrorCode.PortNotSpecified, ex.Code);
        Assert.Contains("No serial ports", ex.Message);
    }

    [Fact]
    public void EmptyFakeTreeListsNothing()
    {
        if (!OperatingSystem.IsLinux()) return;
        using var fs = new FakeSysfs();
        Assert.Empty(PortDiscovery.ListLinux(fs.Sys, fs.Dev));
    }

    [Fact]
    public void ListOnThisHostGivesDevicePaths()
    {
        var ports = PortDiscovery.List();
        if (OperatingSystem.IsLinux()) Assert.All(ports, p => Assert.StartsWith("/dev/", p.Path));
        Assert.Equal(ports.Count, ports.Select(p => p.Path).Distinct().Count());
    }
}
