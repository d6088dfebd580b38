namespace Esp.Build.Tasks.Tests;

/// <summary>
/// A project without an SDK that imports the repository's build/ props and targets directly, run with
/// <c>dotnet msbuild</c>: how the targets evaluate, without packing.
/// </summary>
internal sealed class TinyProject : IDisposable
{
    private readonly string _dir = System.IO.Directory.CreateTempSubdirectory("espbuild-tiny-").FullName;

    public string Directory => _dir;

    /// <summary>The task assembly the test project built (it references Esp.Build.Tasks).</summary>
    public static string TasksAssembly =>
        TestRepository.File($"src/Esp.Build.Tasks/bin/{TestRepository.Configuration}/net10.0/Esp.Build.Tasks.dll");

    /// <summary>Writes Tiny.proj; <paramref name="properties"/> are set before the package files are imported.</summary>
    public string Write(string properties = "", string body = "")
    {
        var path = Path.Combine(_dir, "Tiny.proj");
        File.WriteAllText(path, $"""
            <Project>
              <PropertyGroup>
                <EspBuildTasksAssembly>{TasksAssembly}</EspBuildTasksAssembly>
                {properties}
              </PropertyGroup>
              <Import Project="{TestRepository.File("build/Esp.Build.Tasks.props")}" />
              {body}
              <Import Project="{TestRepository.File("build/Esp.Build.Tasks.targets")}" />
            </Project>
            """);
        return path;
    }

    public BuildResult MSBuild(string project, params string[] args) =>
        PackageFixture.Run(_dir, ["msbuild", project, "-nologo", "-nodeReuse:false", .. args]);

    public void Dispose() => System.IO.Directory.Delete(_dir, recursive: true);
}
