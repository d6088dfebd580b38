using Esp.Protocol.Transport;
using Microsoft.Build.Framework;

namespace Esp.Build.Tasks.Tests;

/// <summary>EspListDevices, the devices `dotnet run` offers (ComputeAvailableDevices), with made-up ports and environment.</summary>
public sealed class ListDevicesTaskTests
{
    private static readonly SerialPortInfo Cp2102 = new("/dev/ttyUSB0", 0x10C4, 0xEA60, "Silicon Labs", "CP2102N USB to UART Bridge Controller", "0001");
    private static readonly SerialPortInfo S3Otg = new("/dev/ttyACM0", 0x303A, 0x0002, "Espressif", "ESP32-S3 DevKit", "F4:12:FA:00:11:22");
    private static readonly SerialPortInfo C3Jtag = new("/dev/ttyACM1", 0x303A, 0x1001, "Espressif", "USB JTAG/serial debug unit");
    private static readonly SerialPortInfo PcComPort = new("/dev/ttyS0");

    private static ITaskItem[] List(IReadOnlyList<SerialPortInfo> ports, string? port = null, string? defaultPort = null, string? environmentPort = null)
    {
        var engine = new FakeBuildEngine();
        var task = new EspListDevices
        {
            BuildEngine = engine,
            Port = port,
            DefaultPort = defaultPort,
            ListPorts = () => ports,
            GetEnvironmentVariable = name => name == "ESPTOOL_PORT" ? environmentPort : null,
        };
        Assert.True(task.Execute(), engine.Log);
        return task.Devices;
    }

    [Fact]
    public void WithNoBoardTheVirtualEsp32IsOffered()
    {
        var device = Assert.Single(List([PcComPort]));
        Assert.Equal("sim:esp32", device.ItemSpec);
        Assert.Equal("Simulator", device.GetMetadata("Type"));
        Assert.Equal("ESP32", device.GetMetadata("Chip"));
        Assert.Contains("virtual ESP32", device.GetMetadata("Description"));
    }

    [Fact]
    public void TheProjectsVirtualChipIsListedByItsShortName()
    {
        var device = Assert.Single(List([], defaultPort: "sim:esp32c3?flash=4MB&state=/p/obj/flash.bin"));
        Assert.Equal("sim:esp32c3", device.ItemSpec); // the targets turn it back into EspDefaultPort's URI
        Assert.Equal("ESP32-C3", device.GetMetadata("Chip"));
        Assert.Contains("EspDefaultPort", device.GetMetadata("Description"));
    }

    [Fact]
    public void ADefaultPortOfAnotherSchemeIsListedAsItIs()
    {
        var device = Assert.Single(List([], defaultPort: "socket://127.0.0.1:5555"));
        Assert.Equal("socket://127.0.0.1:5555", device.ItemSpec);
        Assert.Equal("Device", device.GetMetadata("Type"));
    }

    [Fact]
    public void BoardsAreListedWithTheirBridgeAndTheChipWhenTheUsbIdentityNamesIt()
    {
        var devices = List([PcComPort, Cp2102, S3Otg, C3Jtag], defaultPort: "sim:esp32");
        Assert.Equal(["/dev/ttyUSB0", "/dev/ttyACM0", "/dev/ttyACM1"], devices.Select(d => d.ItemSpec));
        Assert.All(devices, d => Assert.Equal("Device", d.GetMetadata("Type")));

        Assert.Equal("Silicon Labs CP2102N USB to UART Bridge Controller, CP210x USB-UART bridge", devices[0].GetMetadata("Description"));
        Assert.Equal("", devices[0].GetMetadata("Chip")); // a USB-UART bridge says nothing about the chip
        Assert.Equal("10C4:EA60", devices[0].GetMetadata("UsbId"));
        Assert.Equal("0001", devices[0].GetMetadata("SerialNumber"));

        Assert.Equal("ESP32-S3", devices[1].GetMetadata("Chip"));
        Assert.Equal("Espressif ESP32-S3 DevKit, Espressif USB", devices[1].GetMetadata("Description"));
        Assert.Contains("USB-Serial/JTAG", devices[2].GetMetadata("Description"));
        Assert.Equal("", devices[2].GetMetadata("Chip"));
    }

    [Fact]
    public void ThePortTheSettingsNameIsTheOnlyDevice()
    {
        var fromProperty = Assert.Single(List([Cp2102], port: "/dev/ttyUSB7", environmentPort: "/dev/ttyUSB9"));
        Assert.Equal("/dev/ttyUSB7", fromProperty.ItemSpec);
        Assert.Contains("EspPort", fromProperty.GetMetadata("Description"));

        var fromEnvironment = Assert.Single(List([Cp2102], environmentPort: "sim:esp32s3?flash=8MB"));
        Assert.Equal("sim:esp32s3", fromEnvironment.ItemSpec);
        Assert.Contains("ESPTOOL_PORT", fromEnvironment.GetMetadata("Description"));
    }

    [Theory]
    [InlineData("ESP32-C61 board", "ESP32-C61")]
    [InlineData("esp32c6 devkit", "ESP32-C6")]
    [InlineData("ESP32 Dev Module", "ESP32")]
    [InlineData("ESP8266 NodeMCU", "ESP8266")]
    [InlineData("ESP32S3X", null)]
    [InlineData("USB Serial", null)]
    public void TheChipIsReadFromTheProductText(string product, string? chip) =>
        Assert.Equal(chip, DeviceDescription.ChipOf(new SerialPortInfo("/dev/x", 0x303A, 0x0002, null, product)));
}
