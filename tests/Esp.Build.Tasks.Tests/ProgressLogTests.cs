using System.Text.RegularExpressions;
using Esp.Protocol.Loader;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace Esp.Build.Tasks.Tests;

/// <summary>
/// What <c>-v:n</c> shows while a task works: a line about every 10 % of an operation on bytes, with the bytes and, for
/// transfers, the speed; nothing in bytes for operations that count something else.
/// </summary>
public sealed partial class ProgressLogTests
{
    private readonly List<(MessageImportance Importance, string Text)> _lines = [];
    private TimeSpan _now;

    private ProgressLog NewLog() => new((importance, text) => _lines.Add((importance, text)), () => _now);

    private IEnumerable<string> Normal => _lines.Where(l => l.Importance <= MessageImportance.Normal).Select(l => l.Text);

    [GeneratedRegex(@"^  write app\.bin: (\d+)% \((\d+) of 1048576 bytes, ([\d.]+) KiB/s\)$")]
    private static partial Regex WriteLine();

    [Fact]
    public void AWriteIsShownAboutEveryTenPercentWithBytesAndSpeed()
    {
        var log = NewLog();
        const int total = 1024 * 1024, block = 16 * 1024;
        log.Report(new EspProgress("write", 0, total, "app.bin"));
        for (int done = block; done <= total; done += block)
        {
            _now += TimeSpan.FromSeconds(block / 92_160.0); // the wire limit of 921600 Bd
            log.Report(new EspProgress("write", done, total, "app.bin"));
        }
        var lines = Normal.ToList();
        Assert.Equal(10, lines.Count);
        var matches = lines.Select(l => WriteLine().Match(l)).ToList();
        Assert.All(matches, m => Assert.True(m.Success, m.Value));
        Assert.Equal([10, 20, 30, 40, 50, 60, 70, 80, 90, 100], matches.Select(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) / 10 * 10));
        Assert.All(matches, m => Assert.Equal(90.0, double.Parse(m.Groups[3].Value, System.Globalization.CultureInfo.InvariantCulture), 0.1));
    }

    [Fact]
    public void PlanningCountsImagesNotBytesAndStaysBelowNormal()
    {
        var log = NewLog();
        log.Report(new EspProgress("plan", 0, 1, "app.bin"));
        log.Report(new EspProgress("plan", 1, 1));
        Assert.Empty(Normal);
        var detail = Assert.Single(_lines);
        Assert.Equal(MessageImportance.Low, detail.Importance);
        Assert.Equal("  plan: comparing app.bin with the chip's MD5 (image 1 of 1)", detail.Text);
    }

    [Fact]
    public void AnOperationThatOnlyWaitsForTheChipHasNoSpeed()
    {
        var log = NewLog();
        log.Report(new EspProgress("verify", 0, 4096));
        _now += TimeSpan.FromSeconds(1);
        log.Report(new EspProgress("verify", 4096, 4096));
        Assert.Equal(["  verify: 100% (4096 of 4096 bytes)"], Normal);
    }

    [Fact]
    public void TheNextImageStartsItsOwnCount()
    {
        var log = NewLog();
        foreach (var image in new[] { "a.bin", "b.bin" })
        {
            log.Report(new EspProgress("write", 0, 1000, image));
            _now += TimeSpan.FromSeconds(1);
            log.Report(new EspProgress("write", 1000, 1000, image));
        }
        Assert.Equal(["  write a.bin: 100% (1000 of 1000 bytes, 1000 B/s)", "  write b.bin: 100% (1000 of 1000 bytes, 1000 B/s)"], Normal);
    }

    [Theory]
    [InlineData(512, "512 B/s")]
    [InlineData(92_160, "90.0 KiB/s")]
    [InlineData(3_565_158, "3.40 MiB/s")]
    public void SpeedsAreReadable(double bytesPerSecond, string text) => Assert.Equal(text, ProgressLog.Speed(bytesPerSecond));

    [Fact]
    public void TasksAgainstTheVirtualChipLogSensibleProgress()
    {
        var dir = Directory.CreateTempSubdirectory("espbuild-progress-").FullName;
        try
        {
            var data = new byte[128 * 1024];
            new Random(5).NextBytes(data);
            File.WriteAllBytes(Path.Combine(dir, "app.bin"), data);
            var item = new TaskItem(Path.Combine(dir, "app.bin"));
            item.SetMetadata("Address", "0x100000");
            // The link model throttles to the baud rate, so the transfer takes long enough to have a speed.
            var port = $"sim:esp32?baud-throttle=true&state={Path.Combine(dir, "flash.bin")}";
            var engine = new FakeBuildEngine();
            Assert.True(new EspWriteFlash { BuildEngine = engine, Port = port, Baud = "921600", Images = [item] }.Execute(), engine.Log);
            var writes = engine.Messages.Where(m => m.Importance <= MessageImportance.Normal && m.Message!.StartsWith("  write ", StringComparison.Ordinal)).ToList();
            Assert.InRange(writes.Count, 5, 11);
            Assert.All(writes, w => Assert.Matches(@": \d+% \(\d+ of 131072 bytes, [\d.]+ (KiB|MiB)/s\)$", w.Message));

            engine = new FakeBuildEngine();
            var deploy = new EspDeploy { BuildEngine = engine, Port = port, Images = [item] };
            Assert.True(deploy.Execute(), engine.Log);
            Assert.DoesNotContain(engine.Messages, m => m.Importance <= MessageImportance.Normal && m.Message!.Contains("plan:", StringComparison.Ordinal));
            Assert.DoesNotContain(engine.Messages, m => m.Message!.Contains("1 of 1 bytes", StringComparison.Ordinal));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
