using System.Diagnostics;
using System.Text;

namespace Esp.Build.Tasks.Tests;

/// <summary>
/// Packs Esp.Build.Tasks once per test run (unique version), lays out a local folder feed with it and the
/// nanoFramework.CoreLibrary package, and restores a temporary consumer project (a nanoFramework app that takes
/// the tasks by PackageReference) into a private package folder; tests can add more (<see cref="CreateConsumer"/>).
/// Tests then run <c>dotnet build --no-restore</c>.
/// </summary>
public sealed class PackageFixture : IDisposable
{
    public const string NanoCoreLibraryVersion = "1.17.11";

    public PackageFixture()
    {
        RepositoryRoot = TestRepository.Root;
        Configuration = TestRepository.Configuration;
        Root = Directory.CreateTempSubdirectory("espbuild-e2e-").FullName;
        Feed = Path.Combine(Root, "feed");
        Packages = Path.Combine(Root, "packages");
        Directory.CreateDirectory(Feed);
        Version = $"0.0.0-e2e.{DateTime.UtcNow:yyyyMMddHHmmss}.{Environment.ProcessId}";

        // The test project already built Esp.Build.Tasks in this configuration: pack that output.
        var pack = Run(RepositoryRoot, ["pack", Path.Combine(RepositoryRoot, "src", "Esp.Build.Tasks", "Esp.Build.Tasks.csproj"), "--no-build",
            "-c", Configuration, "-o", Feed, $"-p:Version={Version}", "-nodeReuse:false"]);
        if (pack.ExitCode != 0) throw new InvalidOperationException("dotnet pack failed:\n" + pack.Output);
        using (var nupkg = System.IO.Compression.ZipFile.OpenRead(Path.Combine(Feed, $"Esp.Build.Tasks.{Version}.nupkg")))
        {
            PackageFiles = nupkg.Entries.Select(e => e.FullName).ToArray();
            using var nuspec = nupkg.GetEntry("Esp.Build.Tasks.nuspec")!.Open();
            Nuspec = System.Xml.Linq.XDocument.Load(nuspec);
        }

        var nano = FindNupkg("nanoframework.corelibrary", NanoCoreLibraryVersion);
        File.Copy(nano, Path.Combine(Feed, Path.GetFileName(nano)));

        File.WriteAllText(Path.Combine(Root, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="e2e" value="{Feed}" />
              </packageSources>
            </configuration>
            """);

        NanoProject = CreateConsumer("NanoApp", NanoProjectText(Version, """
            <TargetFramework>net10.0</TargetFramework>
            <EspNanoFramework>true</EspNanoFramework>
            """));
    }

    /// <summary>
    /// Writes and restores another consumer project <c>&lt;name&gt;/&lt;name&gt;.csproj</c> (with a Program.cs) and returns its
    /// folder. <see cref="ProjectText"/> makes one in the style of the nanoFramework consumer.
    /// </summary>
    public string CreateConsumer(string name, string projectText)
    {
        var dir = Path.Combine(Root, name);
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, name + ".csproj"), projectText);
        File.WriteAllText(Path.Combine(dir, "Program.cs"), """
            namespace NanoApp
            {
                public class Program
                {
                    public static void Main() { System.Threading.Thread.Sleep(1000); }
                }
            }
            """);
        var restore = Run(dir, ["restore", "-nodeReuse:false", $"-p:RestorePackagesPath={Packages}"]);
        if (restore.ExitCode != 0) throw new InvalidOperationException($"dotnet restore of the consumer project {name} failed:\n" + restore.Output);
        return dir;
    }

    /// <summary>A consumer project that compiles against nanoFramework's mscorlib (no targeting pack needed) with <paramref name="properties"/> and <paramref name="items"/>.</summary>
    public string ProjectText(string properties, string items = "") => NanoProjectText(Version, properties, items);

    public string RepositoryRoot { get; }
    public string Configuration { get; }
    public string Root { get; }
    public string Feed { get; }
    public string Packages { get; }
    public string Version { get; }
    public string NanoProject { get; }
    /// <summary>The entries of the packed .nupkg.</summary>
    public IReadOnlyList<string> PackageFiles { get; private set; } = [];

    /// <summary>The packed .nuspec (the package's metadata).</summary>
    public System.Xml.Linq.XDocument Nuspec { get; } = new();

    /// <summary>Runs <c>dotnet build</c> on the consumer project with <c>--no-restore</c>.</summary>
    public BuildResult Build(IEnumerable<string> args, IDictionary<string, string?>? environment = null, Action<Process, StringBuilder>? whileRunning = null) =>
        BuildIn(NanoProject, args, environment, whileRunning);

    /// <summary>Runs <c>dotnet build --no-restore</c> in a consumer project's folder (<see cref="CreateConsumer"/>).</summary>
    public BuildResult BuildIn(string projectDirectory, IEnumerable<string> args, IDictionary<string, string?>? environment = null,
        Action<Process, StringBuilder>? whileRunning = null)
    {
        string[] all = ["build", "--no-restore", "-nodeReuse:false", $"-p:RestorePackagesPath={Packages}", .. args];
        return Run(projectDirectory, all, environment, whileRunning);
    }

    public static BuildResult Run(string workingDirectory, IEnumerable<string> args, IDictionary<string, string?>? environment = null,
        Action<Process, StringBuilder>? whileRunning = null)
    {
        // A test that interrupts the build needs SIGINT to reach it: a process started in the background by a script
        // (a CI runner, nohup) inherits SIGINT as ignored, and so would dotnet build. env puts the default back.
        bool interrupts = whileRunning is not null && OperatingSystem.IsLinux();
        var psi = new ProcessStartInfo(interrupts ? "env" : "dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (interrupts)
        {
            psi.ArgumentList.Add("--default-signal=INT");
            psi.ArgumentList.Add("dotnet");
        }
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.Environment["DOTNET_NOLOGO"] = "1";
        psi.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        // The developer's own settings must not leak into the tests.
        psi.Environment.Remove("ESPTOOL_PORT");
        psi.Environment.Remove("ESPTOOL_BAUD");
        psi.Environment.Remove("ESPTOOL_CHIP");
        psi.Environment.Remove("ESP_BUILD_SYSFS_ROOT");
        if (environment is not null)
            foreach (var (k, v) in environment)
            {
                if (v is null) psi.Environment.Remove(k);
                else psi.Environment[k] = v;
            }
        var output = new StringBuilder();
        using var p = new Process { StartInfo = psi };
        p.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        p.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        p.Start();
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        whileRunning?.Invoke(p, output);
        if (!p.WaitForExit(TimeSpan.FromMinutes(3)))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException("dotnet " + string.Join(' ', args) + " did not finish:\n" + output);
        }
        p.WaitForExit();
        lock (output) return new BuildResult(p.ExitCode, output.ToString());
    }

    internal static string FindNupkg(string id, string version)
    {
        var roots = new[]
        {
            Environment.GetEnvironmentVariable("NUGET_PACKAGES"),
            Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages"),
        };
        foreach (var root in roots.Where(r => !string.IsNullOrEmpty(r)))
        {
            var file = Path.Combine(root!, id, version, $"{id}.{version}.nupkg");
            if (File.Exists(file)) return file;
        }
        throw new FileNotFoundException($"{id} {version} is not in the NuGet package folder; restore samples/nanoFramework-app once (it references it).");
    }

    private static string NanoProjectText(string version, string properties, string items = "") => $"""
        <Project Sdk="Microsoft.NET.Sdk">
          <PropertyGroup>
            {properties}
            <OutputType>Exe</OutputType>
            <DisableImplicitFrameworkReferences>true</DisableImplicitFrameworkReferences>
            <NoStdLib>true</NoStdLib>
            <NoCompilerStandardLib>true</NoCompilerStandardLib>
            <ImplicitUsings>disable</ImplicitUsings>
            <GenerateAssemblyInfo>false</GenerateAssemblyInfo>
            <GenerateTargetFrameworkAttribute>false</GenerateTargetFrameworkAttribute>
            <UseAppHost>false</UseAppHost>
            <GenerateRuntimeConfigurationFiles>false</GenerateRuntimeConfigurationFiles>
            <GenerateDependencyFile>false</GenerateDependencyFile>
            <EspConnectAttempts>2</EspConnectAttempts>
          </PropertyGroup>
          <ItemGroup>
            <PackageReference Include="Esp.Build.Tasks" Version="{version}" />
            <PackageReference Include="nanoFramework.CoreLibrary" Version="{NanoCoreLibraryVersion}" ExcludeAssets="all" GeneratePathProperty="true" NoWarn="NU1701" />
            <Reference Include="mscorlib" HintPath="$(PkgnanoFramework_CoreLibrary)/lib/mscorlib.dll" Private="false" />
            {items}
          </ItemGroup>
          <Import Project="$(EspTestTargets)" Condition="'$(EspTestTargets)' != ''" />
        </Project>
        """;

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

/// <summary>The tests that build consumers of the packed NuGet share one pack and run one at a time.</summary>
[CollectionDefinition(Name)]
public sealed class PackageCollection : ICollectionFixture<PackageFixture>
{
    public const string Name = "packed NuGet";
}

public sealed record BuildResult(int ExitCode, string Output)
{
    public override string ToString() => $"exit {ExitCode}\n{Output}";
}
