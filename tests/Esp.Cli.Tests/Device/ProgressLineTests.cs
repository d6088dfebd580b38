using System.Globalization;
using System.Text.RegularExpressions;

namespace Esp.Cli.Tests.Device;

/// <summary>Progress when stdout is not a terminal: lines at least every 10 % or every interval, with bytes and speed.</summary>
public partial class ProgressLineTests : IDisposable
{
    private readonly CliRunner _cli = new();
    public void Dispose() => _cli.Dispose();

    [GeneratedRegex(@"^(?<verb>Writing|Reading|Erasing|Verifying) at 0x(?<at>[0-9a-f]{8})\.\.\. \((?<pct>\d+) %, (?<done>[\d.]+ (B|KiB|MiB)) of (?<total>[\d.]+ (B|KiB|MiB))(, (?<speed>[\d.]+ (KiB|MiB)/s))?\)$")]
    private static partial Regex ProgressLine();

    private sealed record Line(string Verb, uint At, int Percent, string Done, string Total, string? Speed);

    private static List<Line> Lines(CliRun r, string verb) =>
        r.Stdout.Split('\n').Select(l => ProgressLine().Match(l.TrimEnd('\r'))).Where(m => m.Success && m.Groups["verb"].Value == verb)
            .Select(m => new Line(m.Groups["verb"].Value, uint.Parse(m.Groups["at"].Value, NumberStyles.HexNumber, CultureInfo.InvariantCulture),
                int.Parse(m.Groups["pct"].Value, CultureInfo.InvariantCulture), m.Groups["done"].Value, m.Groups["total"].Value,
                m.Groups["speed"].Success ? m.Groups["speed"].Value : null)).ToList();

    [Fact]
    public async Task WriteFlashPrintsALineAtLeastEveryTenPercent()
    {
        // A line has a speed once there is time to measure it over (50 ms); on a fast machine the unthrottled virtual
        // chip could take less. 5 ms each way per exchange makes the write's ~25 block round trips last at least 0.25 s.
        var sim = new SimChip(_cli, extra: "&latency-us=5000");
        _cli.WriteFile("app.bin", TestImages.Bytes(400 * 1024, 31));
        var r = await sim.RunAsync("write_flash", "0x10000", "app.bin");
        Assert.True(r.ExitCode == 0, r.ToString());

        var writing = Lines(r, "Writing");
        Assert.True(writing.Count >= 11, r.Stdout);
        Assert.Equal(0, writing[0].Percent);
        Assert.Equal(("0 B", 0x10000u), (writing[0].Done, writing[0].At));
        Assert.Equal(100, writing[^1].Percent);
        Assert.Equal(("400 KiB", 0x10000u + 400 * 1024), (writing[^1].Done, writing[^1].At));
        Assert.All(writing, l => Assert.Equal("400 KiB", l.Total));
        for (int i = 1; i < writing.Count; i++)
        {
            // A line in every 10 % band (the engine reports per acknowledged block, so a line may land inside one).
            Assert.InRange(writing[i].Percent / 10 - writing[i - 1].Percent / 10, 0, 1);
            Assert.True(writing[i].At >= writing[i - 1].At);
        }
        Assert.NotNull(writing[^1].Speed);

        var verifying = Lines(r, "Verifying");
        Assert.Equal([0, 100], verifying.Select(l => l.Percent));
        Assert.Equal(0x10000u, verifying[0].At);
    }

    [Fact]
    public async Task AStepThatReportsNothingStillGetsALineEveryInterval()
    {
        // The ROM erases the whole region at FLASH_BEGIN: one request, 0.6 s of datasheet erase time, no progress between.
        _cli.ProgressInterval = TimeSpan.FromMilliseconds(100);
        var sim = new SimChip(_cli, extra: "&flash-timing=true");
        var r = await sim.RunAsync("--no-stub", "erase_region", "0", "256k");
        Assert.True(r.ExitCode == 0, r.ToString());
        var erasing = Lines(r, "Erasing");
        Assert.True(erasing.Count(l => l.Percent == 0) >= 3, r.Stdout);
        Assert.Equal(100, erasing[^1].Percent);
        Assert.Equal("256 KiB", erasing[^1].Total);
    }

    [Fact]
    public async Task ReadFlashPrintsReadingLines()
    {
        var sim = new SimChip(_cli);
        var r = await sim.RunAsync("read_flash", "0x1000", "64k", "out.bin");
        Assert.True(r.ExitCode == 0, r.ToString());
        var reading = Lines(r, "Reading");
        Assert.Equal(100, reading[^1].Percent);
        Assert.Equal(0x1000u + 64 * 1024, reading[^1].At);
    }

    [Fact]
    public async Task NoProgressAndJsonPrintNoLines()
    {
        var sim = new SimChip(_cli);
        _cli.WriteFile("app.bin", TestImages.Bytes(40 * 1024, 32));
        var quiet = await sim.RunAsync("write_flash", "--no-progress", "0x10000", "app.bin");
        Assert.True(quiet.ExitCode == 0, quiet.ToString());
        Assert.Empty(Lines(quiet, "Writing"));
        var json = await sim.RunAsync("--json", "write_flash", "0x10000", "app.bin");
        Assert.True(json.ExitCode == 0, json.ToString());
        Assert.True(json.Json.GetProperty("ok").GetBoolean());
    }

    [Fact]
    public async Task OnATerminalTheBarShowsBytesAndSpeed()
    {
        _cli.IsTerminal = true;
        var sim = new SimChip(_cli);
        _cli.WriteFile("app.bin", TestImages.Bytes(64 * 1024, 33));
        var r = await sim.RunAsync("write_flash", "0x10000", "app.bin");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Empty(Lines(r, "Writing"));
        var screen = Regex.Replace(r.Stdout, @"\x1b\[[0-9;?]*[A-Za-z]", "");
        Assert.Contains("app.bin: write", screen);
        Assert.Matches(@"100% 64\.0 KiB (\?|[\d.]+ [KM]iB)/s", screen); // bytes column, then the speed (while running)
    }

    [Theory]
    [InlineData(0, 400 * 1024, 0.0, "Writing at 0x00010000... (0 %, 0 B of 400 KiB)")]
    [InlineData(160 * 1024, 400 * 1024, 3.8, "Writing at 0x00038000... (40 %, 160 KiB of 400 KiB, 42.1 KiB/s)")]
    [InlineData(3 * 1024 * 1024 / 2, 4 * 1024 * 1024, 1.0, "Writing at 0x00190000... (37 %, 1.5 MiB of 4 MiB, 1.50 MiB/s)")]
    public void LinesAreFormattedAsDocumented(long done, long total, double seconds, string expected)
    {
        var p = new Esp.Protocol.Loader.EspProgress("write", done, total);
        Assert.Equal(expected, ProgressLines.Format("Writing", 0x10000, p, TimeSpan.FromSeconds(seconds)));
    }
}
