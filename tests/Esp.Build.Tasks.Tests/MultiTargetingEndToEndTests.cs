namespace Esp.Build.Tasks.Tests;

/// <summary>
/// A consumer with two TargetFrameworks: the package's buildMultiTargeting/ targets give the outer build Deploy,
/// EspFlash and EspInfo, which run in the build of one framework (the first, or EspTargetFramework; or only the one
/// that <c>-p:TargetFramework=</c> builds). Each framework flashes its own image, so the chip shows which build ran.
/// </summary>
[Collection(PackageCollection.Name)]
public sealed class MultiTargetingEndToEndTests
{
    private const int ImageAddress = 0x10000;
    private readonly PackageFixture _package;
    private readonly string _project;

    public MultiTargetingEndToEndTests(PackageFixture package)
    {
        _package = package;
        _project = Path.Combine(package.Root, "TwoFrameworks");
        if (Directory.Exists(_project)) return;
        _project = package.CreateConsumer("TwoFrameworks", package.ProjectText(
            "<TargetFrameworks>net10.0;net9.0</TargetFrameworks>",
            """<EspFlashImage Include="image-$(TargetFramework).bin" Address="0x10000" />"""));
        File.WriteAllBytes(Path.Combine(_project, "image-net10.0.bin"), Image(0x10));
        File.WriteAllBytes(Path.Combine(_project, "image-net9.0.bin"), Image(0x09));
    }

    private static byte[] Image(byte fill) => Enumerable.Repeat(fill, 4096).ToArray();

    /// <summary>A virtual chip with its own flash file; returns the port and a function reading the image's first byte.</summary>
    private (string Port, Func<byte> FlashedFill) VirtualChip()
    {
        var state = Path.Combine(_package.Root, $"multi-{Guid.NewGuid():N}.bin");
        return ($"sim:esp32?flash=4MB&state={state}", () => File.ReadAllBytes(state)[ImageAddress]);
    }

    private BuildResult Build(params string[] args) => _package.BuildIn(_project, args);

    [Fact]
    public void ThePackageCarriesTheOuterBuildsTargets()
    {
        Assert.Contains("buildMultiTargeting/Esp.Build.Tasks.props", _package.PackageFiles);
        Assert.Contains("buildMultiTargeting/Esp.Build.Tasks.targets", _package.PackageFiles);
        Assert.Contains("build/Esp.Build.Tasks.Settings.targets", _package.PackageFiles);
        Assert.Contains("build/Esp.Build.Tasks.Host.targets", _package.PackageFiles);
    }

    [Fact]
    public void EspFlashRunsInTheBuildOfTheFirstFramework()
    {
        var (port, fill) = VirtualChip();
        var r = Build("-t:EspFlash", $"-p:EspPort={port}", "-v:n");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal(0x10, fill());
        Assert.Contains("using the build of net10.0", r.Output);
        Assert.Contains("TwoFrameworks.dll", r.Output); // the inner build built before flashing
    }

    [Fact]
    public void EspTargetFrameworkChoosesTheBuild()
    {
        var (port, fill) = VirtualChip();
        var r = Build("-t:Deploy", $"-p:EspPort={port}", "-p:EspTargetFramework=net9.0");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal(0x09, fill());
        Assert.Contains("Esp.Build deploy to ESP32", r.Output);
    }

    [Fact]
    public void TargetFrameworkOnTheCommandLineDeploysThatBuild()
    {
        var (port, fill) = VirtualChip();
        var r = Build("-t:Deploy", $"-p:EspPort={port}", "-p:TargetFramework=net9.0");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal(0x09, fill());
    }

    [Fact]
    public void EspInfoWorksOnTheOuterBuild()
    {
        var (port, _) = VirtualChip();
        var r = Build("-t:EspInfo", $"-p:EspPort={port}");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("connected to ESP32", r.Output);
    }

    [Fact]
    public void DeployOnBuildDeploysOnceFromTheChosenFramework()
    {
        var (port, fill) = VirtualChip();
        var r = Build($"-p:EspPort={port}", "-p:EspDeployOnBuild=true", "-p:EspTargetFramework=net9.0");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal(0x09, fill());
        Assert.Single(r.Output.Split('\n'), l => l.Contains("Esp.Build deploy to", StringComparison.Ordinal));
    }

    [Fact]
    public void AnUnknownEspTargetFrameworkFailsWithEsp1001ListingTheFrameworks()
    {
        var r = Build("-t:EspInfo", "-p:EspPort=sim:esp32", "-p:EspTargetFramework=net8.0");
        Assert.NotEqual(0, r.ExitCode);
        var line = r.Output.Split('\n').First(l => l.Contains("error ESP1001", StringComparison.Ordinal)); // dotnet build repeats it in its summary
        Assert.Contains("net8.0", line);
        Assert.Contains("net10.0, net9.0", line);
        Assert.StartsWith("TwoFrameworks.csproj : error ESP1001", line.Trim());
    }
}
