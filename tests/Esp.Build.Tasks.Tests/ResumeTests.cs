using System.Text.Json;
using Esp.Protocol.Transport;
using Esp.Simulator;
using Microsoft.Build.Utilities;
using Task = System.Threading.Tasks.Task;

namespace Esp.Build.Tasks.Tests;

/// <summary>
/// Deploy and EspWriteFlash finish on their own when the link drops mid-write: they reconnect, compare the chip's
/// sector MD5s, rewrite only what is missing and verify the whole image; a different chip behind the port stops them.
/// </summary>
public sealed class ResumeTests : IDisposable
{
    private const uint Address = 0x10000;
    private readonly string _dir = Directory.CreateTempSubdirectory("espbuild-resume-").FullName;
    private readonly byte[] _image = new byte[256 * 1024];

    public ResumeTests() => new Random(7).NextBytes(_image);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private TaskItem Item()
    {
        var path = Path.Combine(_dir, "app.bin");
        File.WriteAllBytes(path, _image);
        var item = new TaskItem(path);
        item.SetMetadata("Address", $"0x{Address:X}");
        return item;
    }

    private static VirtualChip Chip(long? dropAfter = null, string? mac = null, bool slowFlash = false) => new(new VirtualChipOptions
    {
        Chip = "esp32c3",
        Mac = mac,
        Faults = new FaultOptions { DisconnectAfterHostBytes = dropAfter },
        FlashTiming = new FlashTimingOptions { Enabled = slowFlash },
    });

    private static T Prepare<T>(T task, int port, FakeBuildEngine engine) where T : EspConnectedTask
    {
        task.BuildEngine = engine;
        task.Port = $"socket://127.0.0.1:{port}";
        task.Before = "no-reset";
        task.After = "no-reset";
        task.PortWaitMs = 20_000;
        return task;
    }

    [Fact]
    public void DeployResumesAfterTheLinkDropsAndReportsIt()
    {
        using var chip = Chip(dropAfter: 100_000);
        using var server = new TcpSerialServer(chip);
        var engine = new FakeBuildEngine();
        var summaryFile = Path.Combine(_dir, "summary.json");
        var deploy = Prepare(new EspDeploy { Images = [Item()], SummaryFile = summaryFile }, server.Port, engine);

        Assert.True(deploy.Execute(), engine.Log);

        Assert.Equal(1, chip.Statistics.FaultCount(FaultKind.Disconnect));
        Assert.InRange(deploy.Resumes, 1, 2); // one dropped link; a busy machine may add a timed-out session
        Assert.True(deploy.AllVerified);
        Assert.Contains(", resumed ", deploy.Summary);
        Assert.Contains("reconnected to", engine.Log);
        // The resume rewrote what the first session had not finished, not the whole image.
        Assert.InRange(deploy.BytesWritten, 1, _image.Length - 1);
        Assert.Equal(_image, chip.Flash.Read(Address, _image.Length));
        using var summary = JsonDocument.Parse(File.ReadAllText(summaryFile));
        Assert.Equal(deploy.Resumes, summary.RootElement.GetProperty("resumes").GetInt32());
        Assert.StartsWith("ESP", summary.RootElement.GetProperty("resumedAfter").GetString());
    }

    [Fact]
    public void DeployWithResumeOffFailsWithARangeReport()
    {
        using var chip = Chip(dropAfter: 100_000);
        using var server = new TcpSerialServer(chip);
        var engine = new FakeBuildEngine();
        var deploy = Prepare(new EspDeploy { Images = [Item()], Resume = false }, server.Port, engine);

        Assert.False(deploy.Execute());

        Assert.StartsWith("ESP", engine.Errors.Single().Code);
        Assert.Contains("not written", engine.Errors.Single().Message);
        Assert.Equal(0, deploy.Resumes);
        Assert.DoesNotContain("reconnected to", engine.Log);
    }

    // The server behind socket:// (a ser2net, a remote lab's exporter) dies mid-write and comes back on the same port.
    [Fact]
    public async Task DeployWaitsForAServerThatRestartsAndResumes()
    {
        using var chip = Chip(slowFlash: true);
        var server = new TcpSerialServer(chip);
        int port = server.Port;
        var engine = new FakeBuildEngine();
        var deploy = Prepare(new EspDeploy { Images = [Item()] }, port, engine);

        var run = Task.Run(deploy.Execute);
        await WaitForAsync(() => DataBlocks(chip) >= 2 || run.IsCompleted);
        Assert.False(run.IsCompleted, engine.Log);
        await server.DisposeAsync();
        await Task.Delay(500);
        using var restarted = new TcpSerialServer(chip, port);

        Assert.True(await run.WaitAsync(TimeSpan.FromSeconds(120)), engine.Log);
        Assert.InRange(deploy.Resumes, 1, 2); // one dropped link; a busy machine may add a timed-out session
        Assert.Contains(", resumed ", deploy.Summary);
        Assert.Equal(_image, chip.Flash.Read(Address, _image.Length));
    }

    // A USB bridge that re-enumerates: the port vanishes, and the board comes back under another path with the same
    // USB serial number (here pseudo-terminals in front of the same chip, linked as ttyUSB0 then ttyUSB1, listed as a CP2102N).
    [Fact]
    public async Task DeployFollowsABoardThatComesBackUnderAnotherPath()
    {
        using var chip = Chip(slowFlash: true);
        var first = new PtyHost(chip, Path.Combine(_dir, "ttyUSB0"));
        IReadOnlyList<SerialPortInfo> listed = [Bridge(first.Path)];
        var engine = new FakeBuildEngine();
        var deploy = Prepare(new EspDeploy { Images = [Item()], ListPorts = () => Volatile.Read(ref listed) }, 0, engine);
        deploy.Port = first.Path;

        var run = Task.Run(deploy.Execute);
        await WaitForAsync(() => DataBlocks(chip) >= 2 || run.IsCompleted);
        Assert.False(run.IsCompleted, engine.Log);
        Volatile.Write(ref listed, []);
        first.Dispose();
        await Task.Delay(500);
        using var second = new PtyHost(chip, Path.Combine(_dir, "ttyUSB1"));
        Volatile.Write(ref listed, [Bridge(second.Path)]);

        Assert.True(await run.WaitAsync(TimeSpan.FromSeconds(120)), engine.Log);
        Assert.InRange(deploy.Resumes, 1, 2); // one dropped link; a busy machine may add a timed-out session
        Assert.Equal(second.Path, deploy.UsedPort);
        Assert.Contains($"came back as {second.Path}", engine.Log);
        Assert.Equal(_image, chip.Flash.Read(Address, _image.Length));
    }

    [Fact]
    public void AResumeWaitsForTheBoardOnlyAsLongAsAllowed()
    {
        using var chip = Chip(dropAfter: 100_000);
        var server = new TcpSerialServer(chip);
        var engine = new FakeBuildEngine();
        var deploy = Prepare(new EspDeploy { Images = [Item()] }, server.Port, engine);
        deploy.PortWaitMs = 1000;
        // The server goes away for good as soon as the link drops.
        var watcher = Task.Run(async () =>
        {
            await WaitForAsync(() => chip.Statistics.FaultCount(FaultKind.Disconnect) > 0);
            server.Dispose();
        });

        Assert.False(deploy.Execute());
        Assert.Equal("ESP2001", engine.SingleErrorCode);
        Assert.Contains("did not come back within 1 s", engine.Errors[0].Message);
        Assert.Contains("not written", engine.Errors[0].Message);
    }

    [Fact]
    public async Task AResumeOntoAnotherChipStopsWithESP2015()
    {
        using var first = Chip(slowFlash: true, mac: "24:0a:c4:00:00:01");
        var server = new TcpSerialServer(first);
        int port = server.Port;
        var engine = new FakeBuildEngine();
        var deploy = Prepare(new EspDeploy { Images = [Item()] }, port, engine);

        var run = Task.Run(deploy.Execute);
        await WaitForAsync(() => DataBlocks(first) >= 2 || run.IsCompleted);
        await server.DisposeAsync();
        using var other = Chip(mac: "24:0a:c4:00:00:02");
        using var swapped = new TcpSerialServer(other, port);

        Assert.False(await run.WaitAsync(TimeSpan.FromSeconds(120)));
        Assert.Equal("ESP2015", engine.SingleErrorCode);
        Assert.Equal(0, other.Statistics.Commands(0x02) + other.Statistics.Commands(0x10)); // no FLASH_BEGIN on the other chip
        Assert.True(other.Flash.Read(Address, 4096).All(b => b == 0xFF));
    }

    [Fact]
    public void WriteFlashResumesAndWritesEveryImage()
    {
        using var chip = Chip(dropAfter: 150_000);
        using var server = new TcpSerialServer(chip);
        var engine = new FakeBuildEngine();
        var second = Path.Combine(_dir, "data.bin");
        var data = new byte[64 * 1024];
        new Random(8).NextBytes(data);
        File.WriteAllBytes(second, data);
        var dataItem = new TaskItem(second);
        dataItem.SetMetadata("Address", "0x80000");
        var write = Prepare(new EspWriteFlash { Images = [Item(), dataItem], Compress = "false" }, server.Port, engine);

        Assert.True(write.Execute(), engine.Log);

        Assert.InRange(write.Resumes, 1, 2);
        Assert.Equal(2, write.Written.Length);
        Assert.All(write.Written, w => Assert.Equal("true", w.GetMetadata("Verified")));
        Assert.Contains("bytes rewritten", engine.Log);
        Assert.Equal(_image, chip.Flash.Read(Address, _image.Length));
        Assert.Equal(data, chip.Flash.Read(0x80000, data.Length));
    }

    [Fact]
    public void WriteFlashResumesAnImageThatStartsInsideASector()
    {
        using var chip = Chip(dropAfter: 100_000);
        var before = new byte[0x1000];
        new Random(9).NextBytes(before);
        chip.Flash.Load(Address, before);
        using var server = new TcpSerialServer(chip);
        var engine = new FakeBuildEngine();
        var item = Item();
        item.SetMetadata("Address", $"0x{Address + 0x900:X}");
        var write = Prepare(new EspWriteFlash { Images = [item], Compress = "false" }, server.Port, engine);

        Assert.True(write.Execute(), engine.Log);

        Assert.Equal(1, write.Resumes);
        Assert.Equal(_image, chip.Flash.Read(Address + 0x900, _image.Length));
        Assert.Equal(before.AsSpan(0, 0x900).ToArray(), chip.Flash.Read(Address, 0x900));
    }

    private static SerialPortInfo Bridge(string path) => new(path, 0x10C4, 0xEA60, "Silicon Labs", "CP2102N", SerialNumber: "0001A2B3");

    private static long DataBlocks(VirtualChip chip) => chip.Statistics.Commands(0x03) + chip.Statistics.Commands(0x11);

    private static async Task WaitForAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the condition did not come true within 60 s");
            await Task.Delay(5);
        }
    }
}
