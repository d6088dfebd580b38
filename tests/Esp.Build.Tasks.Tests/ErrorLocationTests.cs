using Microsoft.Build.Utilities;

namespace Esp.Build.Tasks.Tests;

/// <summary>
/// Where errors and warnings point: the line of the user's file that set the property or item they are about, else
/// the project (line 0), else the element that ran the task; files in the project's folder relative to it; always a
/// code and a link to docs/errors.md.
/// </summary>
public sealed class ErrorLocationTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("espbuild-where-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string WriteProject(string body)
    {
        var path = Path.Combine(_dir, "App.csproj");
        File.WriteAllText(path, $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <TargetFramework>net10.0</TargetFramework>
            {body}
              </PropertyGroup>
            </Project>
            """);
        return path;
    }

    [Fact]
    public void AWrongPortPointsAtTheLineThatSetsIt()
    {
        var project = WriteProject("""
                <EspPort>/dev/ttyNOPE</EspPort>
            """);
        var engine = new FakeBuildEngine { ProjectFileOfTaskNode = "/pkg/build/Esp.Build.Tasks.targets", LineNumberOfTaskNode = 110 };
        var task = new EspChipInfo { BuildEngine = engine, Port = "/dev/ttyNOPE", ProjectFile = project, SettingsFiles = $"{_dir}/Esp.user.props;{project}" };
        Assert.False(task.Execute());
        var e = Assert.Single(engine.Errors);
        Assert.Equal("ESP2001", e.Code);
        Assert.Equal("App.csproj", e.File); // relative to the project's folder: the log line then ends with the project
        Assert.Equal(4, e.LineNumber);
        Assert.Equal(5, e.ColumnNumber);
        Assert.Equal(ErrorLinks.Page + "#esp2001", e.HelpLink);
    }

    [Fact]
    public void TheFileThatWinsFirstIsNamed()
    {
        var project = WriteProject("""
                <EspPort>/dev/ttyNOPE</EspPort>
            """);
        var user = Path.Combine(_dir, "Esp.user.props");
        File.WriteAllText(user, "<Project>\n  <PropertyGroup>\n    <EspPort>/dev/ttyNOPE</EspPort>\n  </PropertyGroup>\n</Project>\n");
        var engine = new FakeBuildEngine();
        var task = new EspChipInfo { BuildEngine = engine, Port = "/dev/ttyNOPE", ProjectFile = project, SettingsFiles = $"{user};{project}" };
        Assert.False(task.Execute());
        Assert.Equal(("Esp.user.props", 3), (engine.Errors[0].File, engine.Errors[0].LineNumber));
    }

    [Fact]
    public void AValueMadeFromOtherPropertiesPointsAtTheProjectWithLineZero()
    {
        var project = WriteProject("""
                <EspPort>$(SomePort)</EspPort>
            """);
        var engine = new FakeBuildEngine();
        var task = new EspChipInfo { BuildEngine = engine, Port = "/dev/ttyNOPE", ProjectFile = project, SettingsFiles = project };
        Assert.False(task.Execute());
        Assert.Equal(("App.csproj", 0), (engine.Errors[0].File, engine.Errors[0].LineNumber));
    }

    [Fact]
    public void ATaskInTheUsersOwnTargetPointsAtItsElement()
    {
        var engine = new FakeBuildEngine { ProjectFileOfTaskNode = Path.Combine(_dir, "App.csproj"), LineNumberOfTaskNode = 12, ColumnNumberOfTaskNode = 5 };
        var task = new EspChipInfo { BuildEngine = engine, Port = "/dev/ttyNOPE" };
        Assert.False(task.Execute());
        var e = engine.Errors[0];
        Assert.Equal((Path.Combine(_dir, "App.csproj"), 12, 5), (e.File, e.LineNumber, e.ColumnNumber));
    }

    [Fact]
    public void AnImageWithoutAnAddressPointsAtItsItem()
    {
        var project = Path.Combine(_dir, "App.csproj");
        File.WriteAllText(project, """
            <Project>
              <ItemGroup>
                <EspFlashImage Include="app.bin" />
              </ItemGroup>
            </Project>
            """);
        File.WriteAllBytes(Path.Combine(_dir, "app.bin"), [1, 2, 3, 4]);
        var item = new TaskItem("app.bin");
        item.SetMetadata("EspSourceFile", project);
        var engine = new FakeBuildEngine { ProjectFileOfTaskNode = "/pkg/build/Esp.Build.Tasks.targets" };
        var task = new EspWriteFlash { BuildEngine = engine, Port = "sim:esp32", Images = [item], ProjectFile = project };
        Assert.False(task.Execute());
        var e = Assert.Single(engine.Errors);
        Assert.Equal(("ESP1001", "App.csproj", 3, 5), (e.Code, e.File, e.LineNumber, e.ColumnNumber));
    }

    [Fact]
    public void AStubFileThatDoesNotExistPointsAtEspStubFile()
    {
        var project = WriteProject("""
                <EspStubFile>missing-stub.json</EspStubFile>
            """);
        var engine = new FakeBuildEngine();
        var task = new EspChipInfo { BuildEngine = engine, Port = "sim:esp32", StubFile = "missing-stub.json", ProjectFile = project, SettingsFiles = project };
        Assert.False(task.Execute());
        Assert.Equal(("ESP1005", "App.csproj", 4), (engine.Errors[0].Code, engine.Errors[0].File, engine.Errors[0].LineNumber));
    }

    [Fact]
    public void AnUnexpectedFailureIsStillACodedErrorAtTheProject()
    {
        var project = WriteProject("");
        File.WriteAllBytes(Path.Combine(_dir, "app.bin"), new byte[16]);
        var item = new TaskItem(Path.Combine(_dir, "app.bin"));
        item.SetMetadata("Address", "0x10000");
        var engine = new FakeBuildEngine();
        var task = new EspWriteFlash { BuildEngine = engine, Port = "sim:esp32", Images = [item], Compress = "maybe", ProjectFile = project };
        Assert.False(task.Execute());
        var e = Assert.Single(engine.Errors);
        Assert.Equal(("ESP9999", "App.csproj"), (e.Code, e.File));
        Assert.Contains("FormatException", e.Message);
        Assert.DoesNotContain("   at ", e.Message);
    }

    [Fact]
    public void WarningsAreCodedAndLinked()
    {
        File.WriteAllBytes(Path.Combine(_dir, "mscorlib.pe"), TaskUnitTests.Pe("NFMRK1", 16));
        var engine = new FakeBuildEngine();
        var task = new EspComposeNanoFrameworkDeployment
        {
            BuildEngine = engine,
            ApplicationPe = Path.Combine(_dir, "App.pe"),
            ReferencePe = [new TaskItem(Path.Combine(_dir, "mscorlib.pe"))],
            OutputFile = Path.Combine(_dir, "d.bin"),
        };
        Assert.True(task.Execute(), engine.Log);
        var w = Assert.Single(engine.Warnings);
        Assert.Equal("ESP4100", w.Code);
        Assert.Equal(ErrorLinks.Page + "#esp4100", w.HelpLink);
    }

    [Fact]
    public void TheLinksGoToTheRepositorysErrorPageNamedInTheTargetsToo()
    {
        Assert.EndsWith("/blob/main/docs/errors.md", ErrorLinks.Page);
        Assert.StartsWith("https://", ErrorLinks.Page);
        var props = System.Xml.Linq.XDocument.Load(TestRepository.File("build/Esp.Build.Tasks.props"));
        Assert.Equal(ErrorLinks.Page, props.Descendants("_EspErrorsUrl").Single().Value);
    }
}
