using System.Diagnostics;
using Esp.Fidelity.Tests.Emulator;

namespace Esp.Bench;

/// <summary>
/// Whole tools side by side on Espressif's QEMU running the real ROMs and the real stub (115200 Bd, a fresh emulator
/// per run): <c>dotnet esp</c> against esptool given by <c>--esptool "COMMAND"</c> (for example
/// <c>"/usr/bin/python3 -m esptool"</c> with PYTHONPATH at an esptool checkout that has the same stub). Wall time of
/// each process, median of <c>--reps</c> runs, and a check of what landed or was read. QEMU has no link latency, so
/// this judges correctness and wire use, not latency hiding (that is the link-model bench).
/// </summary>
public sealed class QemuBench(Table table, string? esptool, int reps)
{
    private const int Kib300 = 300 * 1024;
    private static readonly string Ours = Path.Combine(AppContext.BaseDirectory, "dotnet-esp.dll");

    public async Task RunAsync()
    {
        var random300 = Data.Random(Kib300, 31);
        await WriteAsync("esp32c3", stub: false, random300, "ROM write 300 KiB random, ESP32-C3", 1.02);
        await WriteAsync("esp32", stub: false, random300, "ROM write 300 KiB random, ESP32", 1.02);
        await WriteAsync("esp32c3", stub: true, Data.Random(0x4000, 32), "stub write 16 KiB (one block), ESP32-C3", 1.02);
        await ReadAsync("esp32c3", stub: true, 0x20000, "stub read_flash 128 KiB, ESP32-C3");
        await ReadAsync("esp32", stub: false, 0x10000, "ROM read_flash 64 KiB, ESP32");
        await DumpAsync("esp32", 0x40000, "ROM dump_mem 256 KiB, ESP32");
        await DumpAsync("esp32c3", 0x4000, "ROM dump_mem 16 KiB, ESP32-C3");
        await VerifyUnchangedAsync("esp32c3", random300);
    }

    private static string[] Common(QemuChip q, bool stub) =>
        ["--port", q.PortUri, "--chip", q.Chip, "--before", "no-reset", "--after", "no-reset", "-b", "115200", .. stub ? Array.Empty<string>() : ["--no-stub"]];

    private static byte[] FlashWith(uint at, byte[] data)
    {
        var flash = new byte[at + data.Length];
        Array.Fill(flash, (byte)0xFF);
        data.CopyTo(flash, at);
        return flash;
    }

    /// <summary>Runs one tool on a fresh emulator; returns the wall time, or null with the reason when it failed.</summary>
    private static async Task<(double? Seconds, string Note)> OnceAsync(string chip, byte[]? flash, Func<QemuChip, string[]> args,
        bool esptool, string? esptoolCommand, Func<QemuChip, byte[], string?> check)
    {
        await using var q = await QemuChip.StartAsync(chip, flash);
        var sw = Stopwatch.StartNew();
        var (code, output) = await RunToolAsync(q.Directory, esptool ? esptoolCommand! : null, args(q));
        double seconds = sw.Elapsed.TotalSeconds;
        var after = await q.StopAndReadFlashAsync();
        if (code != 0) return (null, $"exit {code}: {Last(output)}");
        var problem = check(q, after);
        return problem is null ? (seconds, "") : (null, problem);
    }

    private static string Last(string output) => output.Trim().Split('\n').LastOrDefault()?.Trim() ?? "";

    private static async Task<(int, string)> RunToolAsync(string dir, string? esptoolCommand, string[] args)
    {
        ProcessStartInfo psi;
        if (esptoolCommand is null)
        {
            psi = new ProcessStartInfo("dotnet");
            psi.ArgumentList.Add(Ours);
            foreach (var a in args) psi.ArgumentList.Add(a);
        }
        else
        {
            // esptool spells the reset choices with underscores before v5; both spellings are accepted by both tools.
            psi = new ProcessStartInfo("/bin/sh");
            psi.ArgumentList.Add("-c");
            psi.ArgumentList.Add(esptoolCommand + " " + string.Join(' ', args.Select(a => "'" + a.Replace("-reset", "_reset", StringComparison.Ordinal) + "'")));
        }
        psi.WorkingDirectory = dir;
        psi.RedirectStandardOutput = psi.RedirectStandardError = true;
        using var p = Process.Start(psi)!;
        var o = p.StandardOutput.ReadToEndAsync();
        var e = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        return (p.ExitCode, await o + await e);
    }

    private async Task CompareAsync(string figure, string chip, byte[]? flash, Func<QemuChip, string[]> args,
        Func<QemuChip, byte[], string?> check, double? ratioTarget, string targetText)
    {
        var ours = new List<double>();
        var theirs = new List<double>();
        var notes = new List<string>();
        for (int i = 0; i < reps; i++)
        {
            var a = await OnceAsync(chip, flash, args, esptool: false, esptool, check);
            if (a.Seconds is { } s) ours.Add(s); else notes.Add("ours: " + a.Note);
            if (esptool is null) continue;
            var b = await OnceAsync(chip, flash, args, esptool: true, esptool, check);
            if (b.Seconds is { } t) theirs.Add(t); else notes.Add("esptool: " + b.Note);
        }
        double? mo = Median(ours), me = Median(theirs);
        string value = $"ours {Show(mo)} ({ours.Count}/{reps} ok)" + (esptool is null ? "" : $", esptool {Show(me)} ({theirs.Count}/{reps} ok)")
            + (mo is { } x && me is { } y ? $", ratio {x / y:0.00}" : "") + (notes.Count > 0 ? "; " + string.Join("; ", notes.Distinct()) : "");
        bool? met = mo is null ? false : me is null || ratioTarget is null ? null : mo / me <= ratioTarget;
        table.Add(figure, "wall time of the tool process, median (QEMU, 115200 Bd)", value, targetText, met, "QEMU");
    }

    private static double? Median(List<double> v) => v.Count == 0 ? null : v.Order().ElementAt(v.Count / 2);
    private static string Show(double? s) => s is { } x ? $"{x:0.00} s" : "failed";

    private Task WriteAsync(string chip, bool stub, byte[] data, string figure, double ratio) =>
        CompareAsync(figure, chip, null, q =>
        {
            File.WriteAllBytes(Path.Combine(q.Directory, "data.bin"), data);
            return [.. Common(q, stub), "write_flash", "0x10000", "data.bin"];
        }, (_, flash) => flash.AsSpan(0x10000, data.Length).SequenceEqual(data) ? null : "flash differs", ratio, $"≤ {ratio:0.00} × esptool");

    private Task ReadAsync(string chip, bool stub, int size, string figure)
    {
        var flash = FlashWith(0x10000, Data.Random(size, 33));
        return CompareAsync(figure, chip, flash, q => [.. Common(q, stub), "read_flash", "0x10000", $"0x{size:x}", "out.bin"],
            (q, _) => File.ReadAllBytes(Path.Combine(q.Directory, "out.bin")).AsSpan().SequenceEqual(flash.AsSpan(0x10000, size)) ? null : "read bytes differ",
            1.0, "≤ esptool");
    }

    private Task DumpAsync(string chip, int size, string figure)
    {
        var rom = File.ReadAllBytes(Path.Combine(Path.GetDirectoryName(QemuChip.Script)!, "rom", chip == "esp32" ? "esp32-v3-rom.bin" : "esp32c3-rom.bin"));
        return CompareAsync(figure, chip, null, q => [.. Common(q, stub: false), "dump_mem", "0x40000000", $"0x{size:x}", "dump.bin"],
            (q, _) => File.ReadAllBytes(Path.Combine(q.Directory, "dump.bin")).AsSpan().SequenceEqual(rom.AsSpan(0, size)) ? null : "dump differs from the ROM image",
            1.0, "≤ esptool, bytes = ROM image");
    }

    private Task VerifyUnchangedAsync(string chip, byte[] data) =>
        CompareAsync("verify_flash 300 KiB unchanged, ESP32-C3 ROM (one MD5)", chip, FlashWith(0x10000, data), q =>
        {
            File.WriteAllBytes(Path.Combine(q.Directory, "data.bin"), data);
            return [.. Common(q, stub: false), "verify_flash", "0x10000", "data.bin"];
        }, (_, _) => null, 1.0, "≤ esptool");
}
