using Esp.Protocol.Images;

namespace Esp.Build.Tasks.Tests;

/// <summary>
/// `dotnet run` on a consumer of the packed NuGet, through the .NET SDK's device selection: the devices it lists,
/// DeployToDevice, and the monitor as RunCommand, bounded by EspMonitorUntil / EspMonitorTimeoutSeconds.
/// There is no board here, so the device is the virtual chip; a fake sysfs tree stands for an attached board.
/// </summary>
[Collection(PackageCollection.Name)]
public sealed class DotnetRunEndToEndTests(PackageFixture package)
{
    private const string RomBanner = "ets Jul 29 2019 12:21:46";
    private const int DeployOffset = 0x1C0000;

    private BuildResult Run(IEnumerable<string> args, FakeSysfs sysfs) =>
        PackageFixture.Run(package.NanoProject, ["run", "--no-restore", $"-p:RestorePackagesPath={package.Packages}", "-nodeReuse:false", .. args],
            new Dictionary<string, string?>
            {
                ["ESP_BUILD_SYSFS_ROOT"] = sysfs.Root,
                // As in a terminal: `dotnet run` evaluates the project in its own process, where nothing sets it.
                ["DOTNET_HOST_PATH"] = null,
            });

    private byte[] MscorlibPe() =>
        File.ReadAllBytes(Path.Combine(Path.GetDirectoryName(PackageFixture.FindNupkg("nanoframework.corelibrary", PackageFixture.NanoCoreLibraryVersion))!,
            "lib", "mscorlib.pe"));

    [Fact]
    public void ListDevicesOffersTheVirtualChipWhenNoBoardIsAttached()
    {
        using var sysfs = new FakeSysfs();
        var r = Run(["--list-devices"], sysfs);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("1. sim:esp32 - virtual ESP32 (Esp.Build's simulator), no board is attached (Simulator)", r.Output);
        Assert.Contains("dotnet run --device sim:esp32", r.Output);
    }

    [Fact]
    public void ListDevicesOffersTheAttachedBoardsInstead()
    {
        using var sysfs = new FakeSysfs();
        sysfs.AddUsb("ttyUSB0", 1, "10c4", "ea60");
        var r = Run(["--list-devices"], sysfs);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains($"1. {Path.Combine(sysfs.Dev, "ttyUSB0")} - CP210x USB-UART bridge (Device)", r.Output);
        Assert.DoesNotContain("sim:esp32", r.Output);
    }

    [Fact]
    public void RunDeploysToTheProjectsVirtualChipAndShowsItsBootOutput()
    {
        using var sysfs = new FakeSysfs();
        var dir = Directory.CreateTempSubdirectory("espbuild-run-").FullName;
        try
        {
            var table = Path.Combine(dir, "pt.bin");
            File.WriteAllBytes(table, PartitionTable.BuildNanoFramework());
            var state = Path.Combine(dir, "flash.bin");
            var defaultPort = $"-p:EspDefaultPort=sim:esp32?flash=4MB&state={state}&preload=0x8000:{table}";

            // 1. Plain `dotnet run`: the only device (the project's virtual chip) is taken, deployed to, and monitored
            //    until the ROM finds no bootloader (the image went to the deploy partition only).
            var r = Run([defaultPort, "-p:EspMonitorUntil=invalid header", "-p:EspMonitorTimeoutSeconds=60"], sysfs);
            Assert.True(r.ExitCode == 0, r.ToString());
            Assert.DoesNotContain("libhostpolicy", r.Output); // the SDK's `dotnet exec App.dll` is not what runs
            Assert.DoesNotContain("MSB4221", r.Output); // the in-process DeployToDevice starts the task host
            Assert.Contains($"connected to ESP32 on sim:esp32?flash=4MB&state={state}", r.Output);
            Assert.Contains("Esp.Build deploy to ESP32", r.Output);
            Assert.Contains(RomBanner, r.Output);
            Assert.Contains("rst:0x1 (POWERON_RESET)", r.Output);
            Assert.Contains("--- found \"invalid header\"", r.Output);
            Assert.True(r.Output.IndexOf("Esp.Build deploy to", StringComparison.Ordinal) < r.Output.IndexOf(RomBanner, StringComparison.Ordinal));
            var pe = MscorlibPe();
            Assert.Equal(pe, File.ReadAllBytes(state).AsSpan(DeployOffset, pe.Length).ToArray());

            // 2. The device by its listed name, EspMonitor=false: the same chip holds the image already, and no monitor runs.
            r = Run([defaultPort, "--device", "sim:esp32", "-p:EspMonitor=false"], sysfs);
            Assert.True(r.ExitCode == 0, r.ToString());
            Assert.Contains("nothing changed", r.Output);
            Assert.Contains("EspMonitor=false", r.Output);
            Assert.DoesNotContain(RomBanner, r.Output);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void AVirtualChipWithoutAStateFileKeepsItsFlashInObjSoThatTheMonitorBootsIt()
    {
        using var sysfs = new FakeSysfs();
        var state = Path.Combine(package.NanoProject, "obj", "sim-esp32-flash.bin");
        File.Delete(state);
        // No partition table on this chip: the image goes to an address. EspDeployOnBuild: the build leaves the deploy to DeployToDevice.
        var r = Run(["--device", "sim:esp32", "-p:EspDeployAddress=0x1C0000", "-p:EspDeployOnBuild=true",
            $"-p:EspMonitorUntil={RomBanner}", "-p:EspMonitorTimeoutSeconds=60"], sysfs);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(r.Output, "Esp.Build deploy to ESP32"));
        Assert.Contains($"sim:esp32?state={state}", r.Output);
        Assert.Contains(RomBanner, r.Output);
        var pe = MscorlibPe();
        Assert.Equal(pe, File.ReadAllBytes(state).AsSpan(DeployOffset, pe.Length).ToArray());
    }
}
