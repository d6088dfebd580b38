using Esp.Simulator;

namespace Esp.Cli.Tests.Device;

/// <summary>get_security_info and run on the virtual chip.</summary>
public class SecurityAndRunTests : IDisposable
{
    private readonly CliRunner _cli = new();
    public void Dispose() => _cli.Dispose();

    private static void Ok(CliRun r) => Assert.True(r.ExitCode == 0, r.ToString());

    private static string[] Report(CliRun r) =>
        r.Stdout[r.Stdout.IndexOf("Security Information:", StringComparison.Ordinal)..].TrimEnd().Split(Environment.NewLine);

    [Fact]
    public async Task SecurityInfoOfAPlainEsp32C3PrintsAsEsptool()
    {
        var r = await new SimChip(_cli, "esp32c3").RunAsync("get_security_info");
        Ok(r);
        Assert.Equal(
        [
            "Security Information:",
            "=====================",
            "Flags: 0x00000000 (0b0)",
            "Key Purposes: (0, 0, 0, 0, 0, 0, 12)",
            "Chip ID: 5",
            "API Version: 3",
            "Secure Boot: Disabled",
            "Flash Encryption: Disabled",
            "SPI Boot Crypt Count (SPI_BOOT_CRYPT_CNT): 0x0",
        ], Report(r));
    }

    [Fact]
    public async Task SecurityFlagsAreSpelledOut()
    {
        // Secure boot with aggressive revocation, key 1 revoked, download caches off, JTAG hard-disabled, USB off.
        const uint flags = 0x001 | 0x002 | 0x010 | 0x080 | 0x100 | 0x200 | 0x400;
        var sim = new SimChip(_cli, "esp32c3", $"&flash-crypt-cnt=7&security-flags=0x{flags:x}");
        var r = await sim.RunAsync("get_security_info");
        Ok(r);
        Assert.Equal(
        [
            "Security Information:",
            "=====================",
            "Flags: 0x00000793 (0b11110010011)",
            "Key Purposes: (0, 0, 0, 0, 0, 0, 12)",
            "Chip ID: 5",
            "API Version: 3",
            "Secure Boot: Enabled",
            "Secure Boot Aggressive key revocation: Enabled",
            "Secure Boot Key Revocation Status:",
            "\tSecure Boot Key1 is Revoked",
            "Flash Encryption: Enabled",
            "SPI Boot Crypt Count (SPI_BOOT_CRYPT_CNT): 0x7",
            "Dcache in UART download mode: Disabled",
            "Icache in UART download mode: Disabled",
            "JTAG: Permanently Disabled",
            "USB Access: Disabled",
        ], Report(r));

        var j = (await sim.RunAsync("--json", "get_security_info")).Json;
        Assert.Equal(flags, j.GetProperty("flags").GetUInt32());
        Assert.True(j.GetProperty("secureBoot").GetBoolean());
        Assert.True(j.GetProperty("flashEncryption").GetBoolean());
        Assert.False(j.GetProperty("secureDownloadMode").GetBoolean());
        Assert.Equal(7, j.GetProperty("flashCryptCount").GetInt32());
        Assert.Equal([1], j.GetProperty("revokedKeys").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal("permanently disabled", j.GetProperty("jtag").GetString());
        Assert.Equal([0, 0, 0, 0, 0, 0, 12], j.GetProperty("keyPurposes").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Contains("DisableUsb", j.GetProperty("flagNames").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(5, j.GetProperty("chipId").GetInt32());
        Assert.Equal(3, j.GetProperty("apiVersion").GetInt32());
    }

    [Fact]
    public async Task SecureDownloadModeIsAFlagTheRomReports()
    {
        var j = (await new SimChip(_cli, "esp32c3", "&secure-download=true").RunAsync("--json", "get_security_info")).Json;
        Assert.True(j.GetProperty("secureDownloadMode").GetBoolean());
        Assert.Equal("rom", j.GetProperty("loader").GetString());
    }

    [Fact]
    public async Task TheEsp32S2AnswersWithoutChipIdAndApiVersion()
    {
        var r = await new SimChip(_cli, "esp32s2").RunAsync("get_security_info");
        Ok(r);
        Assert.DoesNotContain("Chip ID", r.Stdout);
        Assert.DoesNotContain("API Version", r.Stdout);
        Assert.Contains("Secure Boot: Disabled", r.Stdout);
    }

    [Fact]
    public async Task TheEsp32HasNoSecurityInfo()
    {
        var r = await new SimChip(_cli, "esp32").RunAsync("get_security_info");
        Assert.Equal(1, r.ExitCode);
        Assert.StartsWith("error ESP3003: The ESP32 has no GET_SECURITY_INFO command", r.Stderr);
    }

    [Fact]
    public async Task RunOnTheRomLoaderStartsTheApplication()
    {
        await using var kept = new KeptChip();
        var r = await _cli.RunAsync("--port", kept.Port, "--no-stub", "--after", "no-reset", "--json", "run");
        Ok(r);
        Assert.True(r.Json.GetProperty("loaderLeft").GetBoolean());
        Assert.Equal(ChipMode.BootedApp, kept.Chip.Mode);
        Assert.Equal("", r.Stderr);
    }

    [Fact]
    public async Task RunThroughTheStubStartsTheApplicationWithTheHardReset()
    {
        await using var kept = new KeptChip();
        var r = await _cli.RunAsync("--port", kept.Port, "run");
        Ok(r);
        Assert.Equal("", r.Stderr);
        for (int i = 0; i < 100 && kept.Chip.Mode != ChipMode.BootedApp; i++) await Task.Delay(20); // EN's RC delay
        Assert.Equal(ChipMode.BootedApp, kept.Chip.Mode);

        // Without the reset the stub stays: said so.
        await using var other = new KeptChip();
        var stays = await _cli.RunAsync("--port", other.Port, "--after", "no-reset-stub", "--json", "run");
        Ok(stays);
        Assert.False(stays.Json.GetProperty("loaderLeft").GetBoolean());
        Assert.Contains("warning: the flasher stub stays in its loader on run", stays.Stderr);
        Assert.Equal(ChipMode.Stub, other.Chip.Mode);
    }
}
