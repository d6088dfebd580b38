using System.Globalization;
using System.Text;
using System.Text.Json;
using Esp.Cli;

namespace Esp.FaultCampaign.Paths;

/// <summary>
/// <c>dotnet esp write_flash</c> through the CLI's in-process entry point, in the run's directory with a clean
/// environment. The short timeouts come from an <c>esptool.cfg</c> there, as a user would set them. Success is
/// exit code 0; <c>--json</c> gives the error code, message and help of a failure and the number of resumes.
/// </summary>
public static class CliWriteFlashPath
{
    public static async Task<PathResult> RunAsync(RunContext run, CancellationToken ct)
    {
        var sc = run.Scenario;
        RunPaths.WriteImageFile(run);
        File.WriteAllText(Path.Combine(run.Directory, "esptool.cfg"), Config());
        var host = new CliHost
        {
            Environment = new Dictionary<string, string?>(),
            CurrentDirectory = run.Directory,
            HomeDirectory = run.Directory,
            PortLister = run.Port.ListPorts,
        };
        List<string> args = ["--port", run.Port.Port, "--chip", sc.Chip, "--baud", sc.Baud.ToString(CultureInfo.InvariantCulture),
            "--before", run.Port.Before, "--after", "no-reset"];
        if (!sc.Stub) args.Add("--no-stub");
        args.AddRange(["write_flash", "--port-wait", run.Options.PortWait.TotalSeconds.ToString(CultureInfo.InvariantCulture),
            $"0x{sc.Address:x}", "image.bin", "--json"]);

        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int exit = await Esp.Cli.Program.RunAsync([.. args], stdout, stderr, host, ct).ConfigureAwait(false);
        var log = $"dotnet esp {string.Join(' ', args)}\nexit code {exit}\n{stderr}\n{stdout}";
        return Interpret(exit, stdout.ToString(), stderr.ToString()) with { Log = log };
    }

    private static PathResult Interpret(int exit, string stdout, string stderr)
    {
        JsonElement json;
        try
        {
            using var doc = JsonDocument.Parse(stdout);
            json = doc.RootElement.Clone();
        }
        catch (JsonException)
        {
            return PathResult.Failure(null, $"exit code {exit} without a JSON document on stdout; stderr: {stderr}", null);
        }
        if (exit == 0)
            return PathResult.Success(json.TryGetProperty("resumes", out var resumes) ? resumes.GetInt32() : 0);
        if (!json.TryGetProperty("error", out var error))
            return PathResult.Failure(null, $"exit code {exit} without an error in the JSON document; stderr: {stderr}", null);
        string? Text(string name) => error.TryGetProperty(name, out var v) ? v.GetString() : null;
        // Exit codes other than 1 (operation failed) mean usage errors or a cancel: not what a fault should cause.
        var message = exit == 1 ? Text("message") : $"exit code {exit}: {Text("message")}";
        return PathResult.Failure(Text("code"), message, Text("help"));
    }

    /// <summary>The campaign's short timeouts in esptool.cfg's terms (seconds).</summary>
    private static string Config()
    {
        var t = CampaignOptions.FastTimeouts;
        static string S(TimeSpan v) => v.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture);
        var sb = new StringBuilder("[esptool]\n");
        sb.Append($"timeout = {S(t.Command)}\n");
        sb.Append($"sync_timeout = {S(t.Sync)}\n");
        sb.Append($"md5_timeout_per_mb = {S(t.Md5PerMegabyte)}\n");
        sb.Append($"erase_write_timeout_per_mb = {S(t.EraseWritePerMegabyte)}\n");
        sb.Append($"chip_erase_timeout = {S(t.ChipErase)}\n");
        sb.Append($"mem_end_rom_timeout = {S(t.MemEndRom)}\n");
        sb.Append($"max_timeout = {S(t.Max)}\n");
        sb.Append($"connect_attempts = {CampaignOptions.ConnectAttempts}\n");
        return sb.ToString();
    }
}
