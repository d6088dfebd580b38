using Esp.Protocol.Transport;
using Esp.Protocol.Transport.Discovery;

namespace Esp.Protocol.Tests.Transport.Discovery;

public class MacPortDiscoveryTests
{
    private static readonly string[] OtherCalloutDevices = ["/dev/cu.Bluetooth-Incoming-Port", "/dev/cu.debug-console"];

    private static IReadOnlyList<SerialPortInfo> List(string fixture) =>
        PortDiscovery.ListMacOS(Fixture.Text(fixture), OtherCalloutDevices);

    [Fact]
    public void Cp2102nBehindAHubBelongsToItselfNotToTheHub()
    {
        var ports = List("macos-cp2102n.plist");

        var cp = ports[0];
        Assert.Equal("/dev/cu.usbserial-5e2c7a14d9b1ec118f3a6c1f2b7d4e90", cp.Path);
        Assert.Equal((0x10C4, 0xEA60), (cp.Vid, cp.Pid));
        Assert.Equal("5e2c7a14d9b1ec118f3a6c1f2b7d4e90", cp.SerialNumber);
        Assert.Equal("Silicon Labs", cp.Manufacturer);
        Assert.Equal("CP2102N USB to UART Bridge Controller", cp.Product);
        Assert.Equal(UsbBridgeKind.Cp210x, cp.Bridge);
        Assert.Equal(["/dev/cu.Bluetooth-Incoming-Port", "/dev/cu.debug-console"], ports.Skip(1).Select(p => p.Path));
        Assert.All(ports.Skip(1), p => Assert.Null(p.Vid));
    }

    [Fact]
    public void Ch340WithoutSerialNumberOrVendorString()
    {
        var ch = List("macos-ch340.plist")[0];

        Assert.Equal("/dev/cu.usbserial-1410", ch.Path);
        Assert.Equal((0x1A86, 0x7523), (ch.Vid, ch.Pid));
        Assert.Null(ch.SerialNumber);
        Assert.Null(ch.Manufacturer);
        Assert.Equal("USB Serial", ch.Product);
    }

    [Fact]
    public void FtdiUnderTheAppleUsbDeviceSubclass()
    {
        var ports = List("macos-ftdi-ft232r.plist");

        var ft = ports[0];
        Assert.Equal("/dev/cu.usbserial-A50285BI", ft.Path);
        Assert.Equal((0x0403, 0x6001, "A50285BI"), (ft.Vid, ft.Pid, ft.SerialNumber));
        Assert.Equal("FTDI", ft.Manufacturer);
        Assert.Equal("FT232R USB UART", ft.Product);
        var prolific = ports[1];
        Assert.Equal(("/dev/cu.usbserial-1430", 0x067B, 0x2303), (prolific.Path, prolific.Vid, prolific.Pid));
        Assert.False(prolific.IsKnownBridge);
    }

    [Fact]
    public void UsbJtagSerialPortSitsOnTheDataInterfaceOfItsDevice()
    {
        var ports = List("macos-esp32s3-usb-jtag.plist");

        var s3 = ports[0];
        Assert.Equal("/dev/cu.usbmodem1101", s3.Path);
        Assert.Equal((0x303A, 0x1001), (s3.Vid, s3.Pid));
        Assert.Equal("F4:12:FA:4B:1C:20", s3.SerialNumber);
        Assert.Equal("Espressif", s3.Manufacturer);
        Assert.Equal("USB JTAG/serial debug unit", s3.Product);
        Assert.Equal(UsbBridgeKind.EspressifUsbJtagSerial, s3.Bridge);
        var uno = ports[1];
        Assert.Equal(("/dev/cu.usbmodem1201", "75633313133351F0C1A1", "Arduino Srl"), (uno.Path, uno.SerialNumber, uno.Manufacturer));
        Assert.False(uno.IsKnownBridge);
    }

    [Theory]
    [InlineData("macos-cp2102n.plist", "/dev/cu.usbserial-5e2c7a14d9b1ec118f3a6c1f2b7d4e90")]
    [InlineData("macos-ch340.plist", "/dev/cu.usbserial-1410")]
    [InlineData("macos-ftdi-ft232r.plist", "/dev/cu.usbserial-A50285BI")]
    [InlineData("macos-esp32s3-usb-jtag.plist", "/dev/cu.usbmodem1101")]
    public void TheOnlyEspBridgeIsChosen(string fixture, string expected) =>
        Assert.Equal(expected, PortDiscovery.ChooseDefault(List(fixture)).Path);

    [Fact]
    public void CalloutDevicesAlsoFoundByIoregAreListedOnce()
    {
        var ports = PortDiscovery.ListMacOS(Fixture.Text("macos-esp32s3-usb-jtag.plist"),
            ["/dev/cu.usbmodem1101", "/dev/cu.usbmodem1201", "/dev/cu.Bluetooth-Incoming-Port"]);

        Assert.Equal(["/dev/cu.usbmodem1101", "/dev/cu.usbmodem1201", "/dev/cu.Bluetooth-Incoming-Port"], ports.Select(p => p.Path));
        Assert.NotNull(ports[0].Vid);
    }

    [Theory]
    [InlineData("")]
    [InlineData("not a property list")]
    [InlineData("<?xml version=\"1.0\"?><plist version=\"1.0\"><array/></plist>")]
    public void WithoutUsableIoregOutputTheCalloutDevicesAreStillListed(string output)
    {
        var ports = PortDiscovery.ListMacOS(output, ["/dev/cu.usbserial-0001"]);

        Assert.Equal(new SerialPortInfo("/dev/cu.usbserial-0001"), Assert.Single(ports));
    }

    [Fact]
    public void PortOfADeviceWithoutUsbIdentityIsKept()
    {
        const string Plist = """
            <?xml version="1.0" encoding="UTF-8"?>
            <!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
            <plist version="1.0"><array><dict>
              <key>IOObjectClass</key><string>SomeBridge</string>
              <key>IORegistryEntryChildren</key><array><dict>
                <key>IOObjectClass</key><string>IOSerialBSDClient</string>
                <key>IOCalloutDevice</key><string>/dev/cu.somebridge</string>
              </dict></array>
            </dict></array></plist>
            """;

        Assert.Equal([new SerialPortInfo("/dev/cu.somebridge")], IoregPorts.Parse(Plist));
    }

    [Fact]
    public void ThisMacIsListedThroughIoreg()
    {
        if (!OperatingSystem.IsMacOS()) return;
        var ports = PortDiscovery.List();
        Assert.All(ports, p => Assert.StartsWith("/dev/cu.", p.Path, StringComparison.Ordinal));
        Assert.Equal(ports.Count, ports.Select(p => p.Path).Distinct().Count());
    }
}
