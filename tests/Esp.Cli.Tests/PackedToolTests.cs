using System.Diagnostics;
using System.Reflection;

namespace Esp.Cli.Tests;

/// <summary>
/// The CLI as users get it: packed as a dotnet tool, installed from a folder feed, run as a process.
/// </summary>
public class PackedToolTests : IDisposable
{
    private readonly CliRunner _cli = new();
    public void Dispose() => _cli.Dispose();

    private static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Esp.Build.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("Esp.Build.sln not found above " + AppContext.BaseDirectory);
    }

    private static string Configuration =>
        typeof(PackedToolTests).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";

    internal static async Task<(int Code, string Out, string Err)> Run(string file, string args, string workDir, TimeSpan timeout, IDictionary<string, string>? env = null)
    {
        var psi = new ProcessStartInfo(file, args)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            WorkingDirectory = workDir,
            UseShellExecute = false,
        };
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.Environment["DOTNET_NOLOGO"] = "1";
        psi.Environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";
        foreach (var (k, v) in env ?? new Dictionary<string, string>()) psi.Environment[k] = v;
        using var p = Process.Start(psi)!;
        p.StandardInput.Close();
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await p.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"'{file} {args}' did not finish within {timeout}.");
        }
        return (p.ExitCode, await stdout, await stderr);
    }

    [Fact]
    public async Task PackedToolInstallsAndRunsCommands()
    {
        var root = RepositoryRoot();
        var feed = _cli.PathOf("feed");
        var tools = _cli.PathOf("tools");
        var version = $"0.0.0-test.{DateTime.UtcNow:yyyyMMddHHmmssfff}";
        var project = Path.Combine(root, "src", "Esp.Cli", "Esp.Cli.csproj");

        // Pack what this test run already built (same configuration), so the build outputs are not touched.
        var pack = await Run("dotnet", $"pack \"{project}\" -c {Configuration} --no-build -o \"{feed}\" -p:Version={version} -nodeReuse:false", root, TimeSpan.FromMinutes(3));
        Assert.True(pack.Code == 0, pack.Out + pack.Err);
        Assert.True(File.Exists(Path.Combine(feed, $"Esp.Cli.{version}.nupkg")), pack.Out);
        // The flasher stubs ride inside Esp.Protocol.dll; their licence and notice are beside it.
        using (var nupkg = System.IO.Compression.ZipFile.OpenRead(Path.Combine(feed, $"Esp.Cli.{version}.nupkg")))
        {
            var names = nupkg.Entries.Select(e => e.FullName).ToArray();
            Assert.Contains(names, n => n.EndsWith("/Esp.Protocol.dll", StringComparison.Ordinal));
            Assert.Contains(names, n => n.EndsWith("/THIRD-PARTY-NOTICES.md", StringComparison.Ordinal));
            Assert.Contains(names, n => n.EndsWith("/stubs/LICENSE-esptool-js.txt", StringComparison.Ordinal));
        }

        var install = await Run("dotnet", $"tool install --tool-path \"{tools}\" --add-source \"{feed}\" Esp.Cli --version {version}", _cli.Directory, TimeSpan.FromMinutes(3));
        Assert.True(install.Code == 0, install.Out + install.Err);
        var exe = Path.Combine(tools, OperatingSystem.IsWindows() ? "dotnet-esp.exe" : "dotnet-esp");
        Assert.True(File.Exists(exe));

        var help = await Run(exe, "--help", _cli.Directory, TimeSpan.FromMinutes(1));
        Assert.Equal(0, help.Code);
        Assert.Contains("verify_flash", help.Out);

        _cli.WriteFile("app.bin", TestImages.RamApp());
        var info = await Run(exe, "image_info app.bin --json", _cli.Directory, TimeSpan.FromMinutes(1));
        Assert.True(info.Code == 0, info.Out + info.Err);
        Assert.Contains("\"entry\": 1074267140", info.Out);

        // Against the virtual chip, as users write it: the tool includes the sim: port scheme.
        var state = _cli.PathOf("chip.bin");
        var data = TestImages.Bytes(6000, 21);
        _cli.WriteFile("data.bin", data);
        var write = await Run(exe, $"--port \"sim:esp32?state={state}\" write_flash 0x4000 data.bin", _cli.Directory, TimeSpan.FromMinutes(1));
        Assert.True(write.Code == 0, write.Out + write.Err);
        Assert.Contains("Stub running.", write.Out);
        Assert.Contains("Hash of data verified", write.Out);
        Assert.Equal(data, File.ReadAllBytes(state)[0x4000..(0x4000 + data.Length)]);

        var verify = await Run(exe, $"--port \"sim:esp32?state={state}\" verify_flash --diff yes 0x4001 data.bin --json", _cli.Directory, TimeSpan.FromMinutes(1));
        Assert.Equal(1, verify.Code);
        Assert.Contains("\"code\": \"ESP4001\"", verify.Out);
        Assert.StartsWith("error ESP4001:", verify.Err);

        var usage = await Run(exe, "read_mem not-a-number", _cli.Directory, TimeSpan.FromMinutes(1));
        Assert.Equal(2, usage.Code);
        Assert.StartsWith("error ESP1002:", usage.Err);
        Assert.Equal("", usage.Out);
    }
}
