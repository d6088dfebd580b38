using System.Xml.Linq;

namespace Esp.Build.Tasks.Tests;

/// <summary>
/// Which MSBuild can run the tasks: every UsingTask asks for a .NET task host, and the targets stop with ESP1101 on a
/// host that cannot start one. MSBuildRuntimeType and MSBuildVersion are reserved, so the check reads copies of them
/// (_EspMSBuildRuntimeType, _EspMSBuildVersion) that these tests set on a tiny project importing build/ directly.
/// </summary>
public sealed class BuildHostTests : IDisposable
{
    private readonly TinyProject _tiny = new();

    public void Dispose() => _tiny.Dispose();

    private string Project(string properties = "") => _tiny.Write(properties);

    private BuildResult MSBuild(string project, params string[] args) => _tiny.MSBuild(project, args);

    private static string[] Host(string runtimeType, string version) => [$"-p:_EspMSBuildRuntimeType={runtimeType}", $"-p:_EspMSBuildVersion={version}"];

    [Fact]
    public void EveryTaskRunsInADotNetTaskHost()
    {
        var usingTasks = XDocument.Load(TestRepository.File("build/Esp.Build.Tasks.targets")).Descendants("UsingTask").ToList();
        Assert.Equal(16, usingTasks.Count);
        Assert.All(usingTasks, u =>
        {
            Assert.Equal("NET", (string?)u.Attribute("Runtime"));
            Assert.Equal("TaskHostFactory", (string?)u.Attribute("TaskFactory"));
        });
    }

    [Theory]
    [InlineData("EspInfo")]
    [InlineData("EspFlash")]
    [InlineData("Deploy")]
    public void NetFrameworkMSBuildBefore18StopsEveryTargetWithEsp1101(string target)
    {
        var r = MSBuild(Project(), [$"-t:{target}", .. Host("Full", "17.14.8")]);
        Assert.NotEqual(0, r.ExitCode);
        var line = Assert.Single(r.Output.Split('\n'), l => l.Contains("error ESP1101", StringComparison.Ordinal));
        Assert.StartsWith("Tiny.proj : error ESP1101: ", line.Trim());
        Assert.Contains("MSBuild 17.14.8 on .NET Framework", line);
        Assert.Contains("dotnet build", line);
        Assert.Contains("MSBuild 18 or later", line);
        Assert.Contains("Visual Studio 2026", line);
        Assert.DoesNotContain("MSB4216", r.Output); // stopped before MSBuild tried to start a task host
    }

    [Fact]
    public void MSBuildOnDotNetOlderThan18StopsWithEsp1101()
    {
        var r = MSBuild(Project(), ["-t:_EspCheckBuildHost", .. Host("Core", "17.12.3")]);
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("error ESP1101", r.Output);
    }

    [Fact]
    public void DotnetBuildPassesTheCheck()
    {
        var r = MSBuild(Project(), "-t:_EspCheckBuildHost");
        Assert.True(r.ExitCode == 0, r.ToString());
    }

    [Fact]
    public void NetFrameworkMSBuild18WithTheSdkResolvedPassesTheCheck()
    {
        var r = MSBuild(Project("<DOTNET_HOST_PATH>C:\\dotnet\\dotnet.exe</DOTNET_HOST_PATH><RuntimeIdentifierGraphPath>C:\\dotnet\\sdk\\10.0.100\\PortableRuntimeIdentifierGraph.json</RuntimeIdentifierGraphPath>"),
            ["-t:_EspCheckBuildHost", .. Host("Full", "18.0.2")]);
        Assert.True(r.ExitCode == 0, r.ToString());
    }

    [Fact]
    public void WithoutDotnetHostPathTheTargetsTakeTheDotnetOfTheResolvedSdk()
    {
        var root = Path.Combine(_tiny.Directory, "dotnet-root");
        Directory.CreateDirectory(root);
        File.WriteAllText(Path.Combine(root, "dotnet.exe"), "");
        // The project clears the DOTNET_HOST_PATH that dotnet msbuild itself puts in the environment.
        var project = Project($"<DOTNET_HOST_PATH></DOTNET_HOST_PATH><NetCoreRoot>{root}</NetCoreRoot><NetCoreSdkRoot>{root}/sdk/10.0.100</NetCoreSdkRoot>");
        var r = MSBuild(project, ["-t:_EspCheckBuildHost", "-getProperty:DOTNET_HOST_PATH", .. Host("Full", "18.0.2")]);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains(Path.Combine(root, "dotnet.exe"), r.Output);

        // MSBuild on .NET: `dotnet build` puts it in the environment, but `dotnet run` evaluates the project in its
        // own process without it (MSB4221 for ComputeAvailableDevices and DeployToDevice): the dotnet of this system.
        var host = Path.Combine(root, OperatingSystem.IsWindows() ? "dotnet.exe" : "dotnet");
        File.WriteAllText(host, "");
        r = MSBuild(project, ["-getProperty:DOTNET_HOST_PATH", .. Host("Core", "18.0.2")]);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal(host, r.Output.Trim());
    }

    [Fact]
    public void NetFrameworkMSBuild18WithoutAnSdkStopsWithEsp1101NamingDotnetHostPath()
    {
        var r = MSBuild(Project("<DOTNET_HOST_PATH></DOTNET_HOST_PATH>"), ["-t:EspInfo", .. Host("Full", "18.0.2")]);
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("error ESP1101", r.Output);
        Assert.Contains("DOTNET_HOST_PATH", r.Output);
        Assert.Contains("SDK-style project", r.Output);
    }

    [Fact]
    public void NetFrameworkMSBuild18WithAnSdkOlderThan10StopsWithEsp1101NamingGlobalJson()
    {
        var r = MSBuild(Project(), ["-t:_EspCheckBuildHost", "-p:NETCoreSdkVersion=9.0.300", "-p:NetCoreSdkRoot=/x", .. Host("Full", "18.0.2")]);
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("error ESP1101", r.Output);
        Assert.Contains("9.0.300", r.Output);
        Assert.Contains("global.json", r.Output);
    }
}
