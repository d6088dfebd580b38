namespace Esp.Build.Tasks.Tests;

/// <summary>A throw-away Linux sysfs + /dev tree with USB serial devices, for ESP_BUILD_SYSFS_ROOT.</summary>
internal sealed class FakeSysfs : IDisposable
{
    public FakeSysfs()
    {
        Root = Directory.CreateTempSubdirectory("espbuild-sysfs-").FullName;
        Directory.CreateDirectory(Path.Combine(Sys, "class", "tty"));
        Directory.CreateDirectory(Dev);
    }

    public string Root { get; }
    public string Sys => Path.Combine(Root, "sys");
    public string Dev => Path.Combine(Root, "dev");

    /// <summary>Adds a usb-serial port (ttyUSBn) of the given USB ids.</summary>
    public void AddUsb(string name, int bus, string vid, string pid)
    {
        var usbDev = Path.Combine(Sys, "devices", "pci0000:00", $"usb{bus}", $"{bus}-1");
        Directory.CreateDirectory(usbDev);
        File.WriteAllText(Path.Combine(usbDev, "idVendor"), vid + "\n");
        File.WriteAllText(Path.Combine(usbDev, "idProduct"), pid + "\n");
        var ttyDir = Path.Combine(usbDev, $"{bus}-1:1.0", name, "tty", name);
        Directory.CreateDirectory(ttyDir);
        Directory.CreateSymbolicLink(Path.Combine(ttyDir, "device"), "../..");
        Directory.CreateSymbolicLink(Path.Combine(Sys, "class", "tty", name), ttyDir);
        File.WriteAllText(Path.Combine(Dev, name), "");
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
