namespace Esp.Cli.Tests.Device;

/// <summary>write_flash finishes on its own after the link drops mid-write, and says so; --no-resume stops instead.</summary>
public class ResumeCommandTests : IDisposable
{
    private readonly CliRunner _cli = new();
    public void Dispose() => _cli.Dispose();

    private const string DroppingChip = "sim:esp32c3?disconnect-after=100000";

    [Fact]
    public async Task WriteFlashResumesAfterADroppedLink()
    {
        await using var kept = new KeptChip(DroppingChip);
        var app = TestImages.Bytes(256 * 1024, 21);
        var data = TestImages.Bytes(40_000, 22);
        _cli.WriteFile("app.bin", app);
        _cli.WriteFile("data.bin", data);

        var r = await _cli.RunAsync("--port", kept.Port, "write_flash", "-u", "0x10000", "app.bin", "0x100000", "data.bin", "--json");

        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal(1, kept.Chip.Statistics.FaultCount(Esp.Simulator.FaultKind.Disconnect));
        var json = r.Json;
        Assert.InRange(json.GetProperty("resumes").GetInt32(), 1, 2); // one dropped link; a busy machine may add a timed-out session
        var files = json.GetProperty("files").EnumerateArray().ToList();
        Assert.Equal(2, files.Count);
        Assert.All(files, f => Assert.True(f.GetProperty("verified").GetBoolean()));
        // The file the link dropped in was resumed: only what the chip was missing was written again.
        var resumed = files.Single(f => f.GetProperty("file").GetString() == "app.bin");
        Assert.True(resumed.GetProperty("resumed").GetBoolean());
        Assert.InRange(resumed.GetProperty("rewrittenBytes").GetInt64(), 1, app.Length - 1);
        Assert.Equal(app, kept.Chip.Flash.Read(0x10000, app.Length));
        Assert.Equal(data, kept.Chip.Flash.Read(0x100000, data.Length));
    }

    [Fact]
    public async Task TheTextOutputSaysItResumed()
    {
        await using var kept = new KeptChip(DroppingChip);
        _cli.WriteFile("app.bin", TestImages.Bytes(256 * 1024, 23));

        var r = await _cli.RunAsync("--port", kept.Port, "write_flash", "0x10000", "app.bin");

        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("reconnecting to resume", r.Stdout + r.Stderr);
        Assert.Matches(@"Resumed app\.bin: rewrote \d+ of 262144 bytes", r.Stdout);
        Assert.Contains("Hash of data verified", r.Stdout);
    }

    [Fact]
    public async Task AFileThatStartsInsideASectorResumesAndKeepsTheBytesBeforeIt()
    {
        await using var kept = new KeptChip(DroppingChip);
        var before = TestImages.Bytes(0x1000, 26);
        kept.Chip.Flash.Load(0x10000, before);
        var app = TestImages.Bytes(256 * 1024, 27);
        _cli.WriteFile("app.bin", app);

        var r = await _cli.RunAsync("--port", kept.Port, "write_flash", "-u", "0x10800", "app.bin", "--json");

        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal(1, r.Json.GetProperty("resumes").GetInt32());
        Assert.Equal(app, kept.Chip.Flash.Read(0x10800, app.Length));
        Assert.Equal(before.AsSpan(0, 0x800).ToArray(), kept.Chip.Flash.Read(0x10000, 0x800));
    }

    [Fact]
    public async Task NoResumeStopsWithWhatWasNotWritten()
    {
        await using var kept = new KeptChip(DroppingChip);
        _cli.WriteFile("app.bin", TestImages.Bytes(256 * 1024, 24));

        var r = await _cli.RunAsync("--port", kept.Port, "write_flash", "--no-resume", "0x10000", "app.bin");

        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("not written", r.Stderr);
        Assert.DoesNotContain("reconnecting", r.Stdout + r.Stderr);
    }

    [Theory]
    [InlineData("soon")]
    [InlineData("-1")]
    public async Task ABadPortWaitIsAUsageError(string value)
    {
        _cli.WriteFile("app.bin", TestImages.Bytes(16, 25));
        var r = await _cli.RunAsync("--port", "sim:esp32", "write_flash", "--port-wait", value, "0x10000", "app.bin");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--port-wait", r.Stderr);
    }
}
