using System.Diagnostics;
using Esp.Fidelity.Tests.Emulator;

namespace Esp.Fidelity.Tests;

/// <summary><c>dotnet esp</c> as a user runs it (a process, its text and exit code) against the real ROMs and stub.</summary>
public class CliTests
{
    private static async Task<(int Code, string Out, string Err)> EspAsync(string workDir, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { WorkingDirectory = workDir, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "dotnet-esp.dll"));
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await p.WaitForExitAsync(cts.Token);
        return (p.ExitCode, await stdout, await stderr);
    }

    private static string[] On(QemuChip qemu, bool stub, params string[] command) =>
        ["--port", qemu.PortUri, "--chip", qemu.Chip, "--before", "no-reset", "--after", "no-reset", "-b", "115200",
            .. stub ? Array.Empty<string>() : ["--no-stub"], .. command];

    private static string RomImage(string chip) =>
        Path.Combine(Path.GetDirectoryName(QemuChip.Script)!, "rom", chip == "esp32" ? "esp32-v3-rom.bin" : "esp32c3-rom.bin");

    [Theory]
    [InlineData("esp32", 16384)]   // windows of 8 READ_REGs
    [InlineData("esp32c3", 16384)]
    public async Task DumpMemGivesTheMaskRomByteForByte(string chip, int size)
    {
        // The emulator runs the ROM image Espressif ships: dump_mem of it must be exactly that file.
        await QemuChip.RunAsync(chip, null, async qemu =>
        {
            var r = await EspAsync(qemu.Directory, On(qemu, stub: false, "dump_mem", "0x40000000", size.ToString(), "rom.bin"));
            Assert.True(r.Code == 0, r.Out + r.Err);
            var expected = File.ReadAllBytes(RomImage(chip)).AsSpan(0, size).ToArray();
            Assert.Equal(expected, File.ReadAllBytes(Path.Combine(qemu.Directory, "rom.bin")));
        });
    }

    [Fact]
    public async Task WriteFlashThenVerifyFlashDiffOnTheEsp32Rom()
    {
        var app = new byte[5000];
        new Random(21).NextBytes(app);
        await QemuChip.RunAsync("esp32", null, async qemu =>
        {
            File.WriteAllBytes(Path.Combine(qemu.Directory, "app.bin"), app);
            var write = await EspAsync(qemu.Directory, On(qemu, stub: false, "write_flash", "0x10000", "app.bin"));
            Assert.True(write.Code == 0, write.Out + write.Err);
            Assert.Contains("Hash of data verified", write.Out);

            app[1234] ^= 0x40;
            File.WriteAllBytes(Path.Combine(qemu.Directory, "changed.bin"), app);
            var verify = await EspAsync(qemu.Directory, On(qemu, stub: false, "verify_flash", "--diff", "yes", "0x10000", "changed.bin"));
            Assert.Equal(1, verify.Code);
            Assert.Contains("0x000104d2..0x000104d2 (     1 byte)", verify.Out);
            Assert.StartsWith("error ESP4001:", verify.Err);
        });
    }

    [Fact]
    public async Task ReadFlashThroughTheShippedStub()
    {
        var flash = new byte[0x30000];
        new Random(22).NextBytes(flash);
        await QemuChip.RunAsync("esp32c3", flash, async qemu =>
        {
            var r = await EspAsync(qemu.Directory, On(qemu, stub: true, "read_flash", "0x10000", "0x8000", "out.bin"));
            Assert.True(r.Code == 0, r.Out + r.Err);
            Assert.Contains("Stub running.", r.Out);
            Assert.Equal(flash[0x10000..0x18000], File.ReadAllBytes(Path.Combine(qemu.Directory, "out.bin")));
        });
    }

    [Fact]
    public async Task AFailedBaudChangeIsReportedWithTheRateToUse()
    {
        await QemuChip.RunAsync("esp32", null, async qemu =>
        {
            string[] args = ["--port", qemu.PortUri, "--chip", "esp32", "--before", "no-reset", "--no-stub", "-b", "460800", "read_mac"];
            var r = await EspAsync(qemu.Directory, args);
            Assert.Equal(1, r.Code);
            Assert.StartsWith("error ESP2014:", r.Err);
            Assert.Contains("-b 115200", r.Err);
            Assert.DoesNotContain("timeout", r.Err, StringComparison.OrdinalIgnoreCase);
        });
    }
}
