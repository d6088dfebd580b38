namespace Esp.Build.Tasks.Tests;

/// <summary>EspDeployOnBuild=true makes every build deploy, the IDE's build button included.</summary>
public sealed class DeployOnBuildTests : IDisposable
{
    private readonly TinyProject _tiny = new();

    public void Dispose() => _tiny.Dispose();

    [Fact]
    public void DeployOnBuildTurnsOffVisualStudiosFastUpToDateCheck()
    {
        // Visual Studio does not call MSBuild for a project it thinks is up to date; the button must still deploy.
        var on = _tiny.MSBuild(_tiny.Write("<EspDeployOnBuild>true</EspDeployOnBuild>"), "-getProperty:DisableFastUpToDateCheck");
        Assert.Equal("true", on.Output.Trim());
        var off = _tiny.MSBuild(_tiny.Write(), "-getProperty:DisableFastUpToDateCheck");
        Assert.Equal("", off.Output.Trim());
        var own = _tiny.MSBuild(_tiny.Write("<EspDeployOnBuild>true</EspDeployOnBuild><DisableFastUpToDateCheck>false</DisableFastUpToDateCheck>"),
            "-getProperty:DisableFastUpToDateCheck");
        Assert.Equal("false", own.Output.Trim());
    }

    [Fact]
    public void DeployOnBuildRunsTheDeployAfterBuild()
    {
        // Nothing to deploy here: the deploy task itself says so, after Build, in its .NET task host.
        var project = _tiny.Write("<EspDeployOnBuild>true</EspDeployOnBuild><EspPort>sim:esp32</EspPort>", """<Target Name="Build"><Message Importance="high" Text="built" /></Target>""");
        var r = _tiny.MSBuild(project, "-t:Build");
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("built", r.Output);
        Assert.Contains("error ESP1001", r.Output);
        Assert.Contains("nothing to deploy", r.Output);
        Assert.True(r.Output.IndexOf("built", StringComparison.Ordinal) < r.Output.IndexOf("error ESP1001", StringComparison.Ordinal));

        var plain = _tiny.MSBuild(_tiny.Write(body: """<Target Name="Build" />"""), "-t:Build");
        Assert.True(plain.ExitCode == 0, plain.ToString());
    }
}
