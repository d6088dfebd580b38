namespace Esp.Cli.Tests;

public class UsageTests : IDisposable
{
    private readonly CliRunner _cli = new();
    public void Dispose() => _cli.Dispose();

    private static void AssertOneErrorLineThenUsage(CliRun r, string code, string usageStart)
    {
        var lines = r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith($"error {code}: ", lines[0]);
        Assert.Contains(lines, l => l.StartsWith(usageStart, StringComparison.Ordinal));
        Assert.Equal(2, r.ExitCode);
    }

    [Fact]
    public async Task UnknownCommandIsUsageErrorWithSuggestion()
    {
        var r = await _cli.RunAsync("read_mack");
        AssertOneErrorLineThenUsage(r, "ESP1001", "usage: dotnet esp [options] <command>");
        Assert.Contains("Unknown command 'read_mack'", r.Stderr);
        Assert.Contains("Did you mean 'read_mac'", r.Stderr);
        Assert.Equal("", r.Stdout);
    }

    [Fact]
    public async Task NoCommandIsUsageError()
    {
        var r = await _cli.RunAsync();
        Assert.Equal(2, r.ExitCode);
        Assert.StartsWith("error ESP1001: ", r.Stderr);
    }

    [Theory]
    [InlineData("read_mem", "0xZZ")]
    [InlineData("read-mem", "12abc")]
    [InlineData("write_mem", "0x1000", "-5")]
    [InlineData("erase_region", "0x1000", "4XB")]
    public async Task BadNumberIsUsageError(params string[] args)
    {
        var r = await _cli.RunAsync(args);
        AssertOneErrorLineThenUsage(r, "ESP1002", $"usage: dotnet esp [options] {args[0].Replace('-', '_')}");
    }

    [Fact]
    public async Task MissingFileIsUsageErrorBeforeConnecting()
    {
        // The port does not exist: a missing file must be reported first, without trying to connect.
        var r = await _cli.RunAsync("--port", "socket://127.0.0.1:1", "write_flash", "0x1000", "missing.bin");
        AssertOneErrorLineThenUsage(r, "ESP1005", "usage: dotnet esp [options] write_flash");
        Assert.Contains("'missing.bin' does not exist", r.Stderr);
    }

    [Fact]
    public async Task OddPairCountIsUsageError()
    {
        _cli.WriteFile("a.bin", [1, 2, 3]);
        var r = await _cli.RunAsync("verify-flash", "0x1000", "a.bin", "0x2000");
        AssertOneErrorLineThenUsage(r, "ESP1001", "usage: dotnet esp [options] verify_flash");
    }

    [Fact]
    public async Task UnknownOptionIsUsageError()
    {
        var r = await _cli.RunAsync("read_mac", "--frobnicate");
        AssertOneErrorLineThenUsage(r, "ESP1001", "usage: dotnet esp [options] read_mac");
        Assert.Contains("--frobnicate", r.Stderr);
    }

    [Fact]
    public async Task BadChoiceForBeforeIsUsageError()
    {
        var r = await _cli.RunAsync("--port", "socket://127.0.0.1:1", "--before", "sometimes", "read_mac");
        AssertOneErrorLineThenUsage(r, "ESP1001", "usage: dotnet esp [options] read_mac");
        Assert.Contains("default-reset", r.Stderr);
    }

    [Fact]
    public async Task UsageErrorInJsonModeStillPrintsJson()
    {
        var r = await _cli.RunAsync("--json", "read_mem", "nope");
        Assert.Equal(2, r.ExitCode);
        var j = r.Json;
        Assert.False(j.GetProperty("ok").GetBoolean());
        Assert.Equal(2, j.GetProperty("exitCode").GetInt32());
        Assert.Equal("ESP1002", j.GetProperty("error").GetProperty("code").GetString());
        Assert.StartsWith("error ESP1002:", r.Stderr);
    }

    [Fact]
    public async Task NonVolatileStatusWriteNeedsYesWithoutTerminal()
    {
        var r = await _cli.RunAsync("--port", "socket://127.0.0.1:1", "write_flash_status", "--non-volatile", "0");
        AssertOneErrorLineThenUsage(r, "ESP1020", "usage: dotnet esp [options] write_flash_status");
        Assert.Contains("--yes", r.Stderr);
    }

    [Fact]
    public async Task NonVolatileStatusWriteDeclinedAtThePrompt()
    {
        _cli.IsInteractive = true;
        _cli.Input = "no\n";
        var r = await _cli.RunAsync("--port", "socket://127.0.0.1:1", "write_flash_status", "--non-volatile", "0");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("Type 'yes'", r.Stdout);
        Assert.Contains("Not confirmed", r.Stderr);
    }

    [Fact]
    public async Task ConnectionFailureIsExitOneWithCodeAndHelp()
    {
        var r = await _cli.RunAsync("--port", "socket://127.0.0.1:1", "--connect-attempts", "1", "read_mac");
        Assert.Equal(1, r.ExitCode);
        var lines = r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Matches("^error ESP2\\d{3}: ", lines[0]);
        Assert.True(lines.Length >= 2, r.ToString());
        Assert.DoesNotContain("   at ", r.Stderr); // no stack trace
    }

    [Fact]
    public async Task HelpListsEsptoolCommands()
    {
        var r = await _cli.RunAsync("--help");
        Assert.Equal(0, r.ExitCode);
        foreach (var c in new[] { "write_flash", "read_flash", "verify_flash", "erase_flash", "erase_region", "read_mem", "write_mem", "dump_mem",
                     "load_ram", "read_mac", "flash_id", "chip_id", "read_flash_status", "write_flash_status", "read_flash_sfdp" })
            Assert.Contains(c, r.Stdout);
    }

    [Fact]
    public async Task HelpListsEachOptionOnceInItsHyphenSpelling()
    {
        var app = new CliApp();
        foreach (var args in new[] { new[] { "--help" } }.Concat(app.Commands.Select(c => new[] { c.Name, "--help" })))
        {
            var r = await _cli.RunAsync(args);
            Assert.Equal(0, r.ExitCode);
            var optionWords = System.Text.RegularExpressions.Regex.Matches(r.Stdout, @"(?<=^|[\s,])--[a-z][a-z0-9_-]*").Select(m => m.Value).ToList();
            Assert.DoesNotContain(optionWords, w => w.Contains('_', StringComparison.Ordinal));
            Assert.Single(optionWords, "--connect-attempts");
        }
    }

    [Theory]
    [InlineData("--connect_attempts", "1", "read_mac")]
    [InlineData("--connect-attempts=1", "read_mac")]
    [InlineData("--connect_attempts=1", "--no_stub", "read_mac")]
    [InlineData("--connect_attempts:1", "read_flash", "--no_progress", "0", "16", "out.bin")]
    public async Task UnderscoreSpellingsAreStillAccepted(params string[] args)
    {
        // Parsed fine, so the run gets as far as connecting (and fails there: exit 1, not a usage error).
        var r = await _cli.RunAsync([.. new[] { "--port", "socket://127.0.0.1:1" }, .. args]);
        Assert.True(r.ExitCode == 1, r.ToString());
        Assert.Matches("^error ESP2\\d{3}: ", r.Stderr);
    }

    [Fact]
    public async Task VersionCommandWorksWithJson()
    {
        var r = await _cli.RunAsync("version", "--json");
        Assert.Equal(0, r.ExitCode);
        Assert.True(r.Json.GetProperty("ok").GetBoolean());
        Assert.Equal("version", r.Json.GetProperty("command").GetString());
    }
}
