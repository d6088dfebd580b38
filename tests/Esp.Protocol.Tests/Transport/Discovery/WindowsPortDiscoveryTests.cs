using Esp.Protocol.Transport;

namespace Esp.Protocol.Tests.Transport.Discovery;

public class WindowsPortDiscoveryTests
{
    [Fact]
    public void Cp2102nHasItsSerialNumberAndTheLegacyPortNoIdentity()
    {
        var ports = PortDiscovery.ListWindows(Fixture.Registry("windows-cp2102n.reg"));

        Assert.Equal(["COM3", "COM1"], ports.Select(p => p.Path));
        var cp = ports[0];
        Assert.Equal((0x10C4, 0xEA60), (cp.Vid, cp.Pid));
        Assert.Equal("5E2C7A14D9B1EC118F3A6C1F2B7D4E90", cp.SerialNumber);
        Assert.Equal("Silicon Labs", cp.Manufacturer);
        Assert.Equal("Silicon Labs CP210x USB to UART Bridge", cp.Product);
        Assert.Equal(UsbBridgeKind.Cp210x, cp.Bridge);
        Assert.Equal(new SerialPortInfo("COM1"), ports[1]);
    }

    [Fact]
    public void Ch340WithoutSerialNumberHasNone()
    {
        var ports = PortDiscovery.ListWindows(Fixture.Registry("windows-ch340.reg"));

        Assert.Equal(["COM4", "COM6", "COM7"], ports.Select(p => p.Path));
        var ch = ports[0];
        Assert.Equal((0x1A86, 0x7523), (ch.Vid, ch.Pid));
        Assert.Null(ch.SerialNumber); // its instance id 5&2c8e1a0b&0&2 is made up by Windows
        Assert.Equal("wch.cn", ch.Manufacturer);
        Assert.Equal("USB-SERIAL CH340", ch.Product);
        Assert.All(ports.Skip(1), p => Assert.Null(p.Vid)); // Bluetooth
    }

    [Fact]
    public void FtdiPortComesFromFtdiBusWithTheSerialNumberWithoutItsChannelLetter()
    {
        var ports = PortDiscovery.ListWindows(Fixture.Registry("windows-ftdi-ft232r.reg"));

        Assert.Equal(["COM7", "COM8"], ports.Select(p => p.Path));
        var ft = ports[0];
        Assert.Equal((0x0403, 0x6001), (ft.Vid, ft.Pid));
        Assert.Equal("A50285BI", ft.SerialNumber);
        Assert.Equal("FTDI", ft.Manufacturer);
        Assert.Equal("USB Serial Port", ft.Product);
        Assert.Equal(UsbBridgeKind.Ftdi, ft.Bridge);
        var prolific = ports[1];
        Assert.Equal((0x067B, 0x2303), (prolific.Vid, prolific.Pid));
        Assert.False(prolific.IsKnownBridge);
    }

    [Fact]
    public void UsbJtagSerialInterfaceTakesTheSerialNumberOfItsCompositeParent()
    {
        var ports = PortDiscovery.ListWindows(Fixture.Registry("windows-esp32s3-usb-jtag.reg"));

        Assert.Equal(["COM9", "COM8"], ports.Select(p => p.Path)); // COM10 of the unplugged board is not present
        var s3 = ports[0];
        Assert.Equal((0x303A, 0x1001), (s3.Vid, s3.Pid));
        Assert.Equal("F4:12:FA:4B:1C:20", s3.SerialNumber);
        Assert.Equal("USB Serial Device", s3.Product);
        Assert.Equal(UsbBridgeKind.EspressifUsbJtagSerial, s3.Bridge);
        var uno = ports[1];
        Assert.Equal("75633313133351F0C1A1", uno.SerialNumber);
        Assert.Equal("Arduino Uno", uno.Product);
        Assert.False(uno.IsKnownBridge);
    }

    [Fact]
    public void CompositeParentIsFoundByParentIdPrefix()
    {
        var ports = PortDiscovery.ListWindows(Fixture.Registry("windows-composite-mi00.reg"));
        var withoutContainers = PortDiscovery.ListWindows(RegFileRegistry.Parse(string.Join('\n',
            Fixture.Text("windows-composite-mi00.reg").Split('\n').Where(l => !l.StartsWith("\"ContainerID\"", StringComparison.Ordinal)))));

        Assert.Equal(["COM12", "COM13"], ports.Select(p => p.Path));
        Assert.Equal((0x303A, 0x4003, "123456"), (ports[0].Vid, ports[0].Pid, ports[0].SerialNumber));
        Assert.Equal(UsbBridgeKind.EspressifUsb, ports[0].Bridge);
        Assert.Equal((0x2E8A, 0x000A, "E6614103E7452D2F"), (ports[1].Vid, ports[1].Pid, ports[1].SerialNumber));
        Assert.Equal("123456", withoutContainers[0].SerialNumber); // the Pico's parent names no prefix: only its container links it
        Assert.Null(withoutContainers[1].SerialNumber);
    }

    [Theory]
    [InlineData("windows-cp2102n.reg", "COM3")]
    [InlineData("windows-ch340.reg", "COM4")]
    [InlineData("windows-ftdi-ft232r.reg", "COM7")]
    [InlineData("windows-esp32s3-usb-jtag.reg", "COM9")]
    [InlineData("windows-composite-mi00.reg", "COM12")]
    public void TheOnlyEspBridgeIsChosen(string fixture, string expected) =>
        Assert.Equal(expected, PortDiscovery.ChooseDefault(PortDiscovery.ListWindows(Fixture.Registry(fixture))).Path);

    [Fact]
    public async Task ResumeFindsTheBoardAgainUnderItsNewComName()
    {
        var before = PortDiscovery.ListWindows(Fixture.Registry("windows-esp32s3-usb-jtag.reg"));
        var serial = PortWaiter.SerialNumberOf("COM9", () => before);
        var after = PortDiscovery.ListWindows(RegFileRegistry.Parse(Fixture.Text("windows-esp32s3-usb-jtag.reg")
            .Replace("=\"COM9\"", "=\"COM11\"", StringComparison.Ordinal)));

        var found = await PortWaiter.WaitAsync("COM9", serial, TimeSpan.Zero, () => after, CancellationToken.None);

        Assert.Equal("F4:12:FA:4B:1C:20", serial);
        Assert.Equal("COM11", found);
    }

    [Fact]
    public void OfTwoKeysNamingAPresentPortTheOneItsServiceRunsOwnsIt()
    {
        const string Header = "Windows Registry Editor Version 5.00\n";
        const string Keys = """
            [HKEY_LOCAL_MACHINE\HARDWARE\DEVICEMAP\SERIALCOMM]
            "\\Device\\Silabser0"="COM3"
            [HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Enum\USB\VID_10C4&PID_EA60\0001]
            "Service"="silabser"
            [HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Enum\USB\VID_10C4&PID_EA60\0001\Device Parameters]
            "PortName"="COM3"
            [HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Enum\USB\VID_2341&PID_0043\85036313530351F0A0E1]
            "Service"="usbser"
            [HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Enum\USB\VID_2341&PID_0043\85036313530351F0A0E1\Device Parameters]
            "PortName"="COM3"
            """;
        const string Started = """

            [HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Services\usbser\Enum]
            "0"="USB\\VID_2341&PID_0043\\85036313530351F0A0E1"
            """;

        var known = Assert.Single(PortDiscovery.ListWindows(RegFileRegistry.Parse(Header + Keys + Started)));
        var unknown = Assert.Single(PortDiscovery.ListWindows(RegFileRegistry.Parse(Header + Keys)));

        Assert.Equal(("COM3", 0x2341, "85036313530351F0A0E1"), (known.Path, known.Vid, known.SerialNumber));
        Assert.Equal(new SerialPortInfo("COM3"), unknown); // which of the two is plugged in cannot be told
    }

    [Fact]
    public void CompositeParentIsFoundByContainerButNotThroughTheComputersOwnContainer()
    {
        static string Registry(string container) => $$"""
            Windows Registry Editor Version 5.00
            [HKEY_LOCAL_MACHINE\HARDWARE\DEVICEMAP\SERIALCOMM]
            "\\Device\\USBSER000"="COM5"
            [HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Enum\USB\VID_303A&PID_1001\48:CA:43:59:06:20]
            "ContainerID"="{{container}}"
            [HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Enum\USB\VID_303A&PID_1001&MI_00\6&1a2b3c4d&0&0000]
            "ContainerID"="{{container}}"
            [HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Enum\USB\VID_303A&PID_1001&MI_00\6&1a2b3c4d&0&0000\Device Parameters]
            "PortName"="COM5"
            """;

        var own = PortDiscovery.ListWindows(RegFileRegistry.Parse(Registry("{5f1e2d3c-4b5a-5968-8776-a5b4c3d2e1f0}")));
        var computer = PortDiscovery.ListWindows(RegFileRegistry.Parse(Registry("{00000000-0000-0000-FFFF-FFFFFFFFFFFF}")));

        Assert.Equal("48:CA:43:59:06:20", Assert.Single(own).SerialNumber);
        Assert.Null(Assert.Single(computer).SerialNumber);
        Assert.Equal(0x1001, Assert.Single(computer).Pid);
    }

    [Fact]
    public void EmptyRegistryListsNothing() =>
        Assert.Empty(PortDiscovery.ListWindows(RegFileRegistry.Parse("Windows Registry Editor Version 5.00\n")));

    [Fact]
    public void ThisWindowsHostIsListedFromItsRegistry()
    {
        if (!OperatingSystem.IsWindows()) return;
        var ports = PortDiscovery.List();
        Assert.All(ports, p => Assert.StartsWith("COM", p.Path, StringComparison.OrdinalIgnoreCase));
        Assert.Equal(ports.Count, ports.Select(p => p.Path).Distinct(StringComparer.OrdinalIgnoreCase).Count());
    }
}
