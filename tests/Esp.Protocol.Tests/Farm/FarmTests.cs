using System.Collections.Concurrent;
using Esp.Protocol.Errors;
using Esp.Protocol.Farm;
using Esp.Protocol.Loader;
using Esp.Protocol.Operations;
using Esp.Protocol.Transport;
using Esp.Simulator;
using Esp.Simulator.Link;

namespace Esp.Protocol.Tests.Farm;

/// <summary>One build to many boards: each board on its own connection, its own plan and resume, its own result.</summary>
public sealed class FarmTests : IAsyncDisposable
{
    private static int _next;
    private readonly string _scheme = $"farm{Interlocked.Increment(ref _next)}";
    private readonly ConcurrentDictionary<string, VirtualChip> _chips = new();

    public FarmTests() =>
        TransportFactory.Register(_scheme, (name, o, _) => _chips.TryGetValue(name, out var chip)
            ? Task.FromResult(SimulatorPort.Connect(chip, name, o.BaudRate))
            : throw new EspException(EspErrorCode.PortNotFound, $"No board on {name}."));

    public async ValueTask DisposeAsync()
    {
        foreach (var chip in _chips.Values) await chip.DisposeAsync();
    }

    private Board Add(string name, VirtualChipOptions options)
    {
        var port = $"{_scheme}:{name}";
        _chips[port] = new VirtualChip(options);
        return new Board(port) { Label = name };
    }

    private VirtualChip ChipOf(Board b) => _chips[b.Port];

    private static ConnectOptions Connect(Board b) => new() { Baud = 460800, After = "no-reset" };

    private static byte[] Image(int size, int seed)
    {
        var data = new byte[size];
        var rng = new Random(seed);
        for (int i = 0; i < size; i++) data[i] = (byte)(i % 64 < 40 ? i / 64 : rng.Next(256)); // compressible, as firmware is
        return data;
    }

    [Fact]
    public async Task BoardsOfDifferentChipsAreWrittenAtOnceAndCompressionIsShared()
    {
        var boards = new[] { "esp32", "esp32c3", "esp32s3", "esp8266" }.Select(c => Add(c, new VirtualChipOptions { Chip = c })).ToList();
        var image = Image(200_000, 1);
        using var cache = new CompressionCache();

        var results = await FarmDeployer.DeployAsync(boards, Connect, [new DeployImage("app", 0x10000, image)],
            new DeployOptions { SharedCompression = cache });

        Assert.All(results, r => Assert.True(r.Succeeded, $"{r.Board.Name}: {r.Error?.Message}"));
        Assert.Equal(["ESP32", "ESP32-C3", "ESP32-S3", "ESP8266"], results.Select(r => r.ChipName));
        Assert.All(results, r => Assert.Matches("^([0-9a-f]{2}:){5}[0-9a-f]{2}$", r.Mac));
        Assert.All(results, r => Assert.True(r.Value!.Images[0].Verified));
        Assert.All(boards, b => Assert.Equal(image, ChipOf(b).Flash.Read(0x10000, image.Length)));
        Assert.Equal(1, cache.Builds);

        // Every board is unchanged the second time.
        var again = await FarmDeployer.DeployAsync(boards, Connect, [new DeployImage("app", 0x10000, image)]);
        Assert.All(again, r => Assert.Equal(DeployAction.Skip, r.Value!.Images[0].Action));
    }

    [Fact]
    public async Task AFailingBoardDoesNotStopTheOthers()
    {
        var good = Add("good", new VirtualChipOptions { Chip = "esp32" });
        var wrong = Add("wrong", new VirtualChipOptions { Chip = "esp32" }) with { Chip = "esp32c3" };
        var missing = new Board($"{_scheme}:missing");
        var image = Image(50_000, 2);

        var results = await FarmDeployer.DeployAsync([missing, good, wrong], Connect, [new DeployImage("app", 0x10000, image)],
            farm: new FarmOptions { Resume = new ResumeOptions { PortWait = TimeSpan.FromMilliseconds(300) } });

        Assert.Equal(BoardOutcome.Failed, results[0].Outcome);
        Assert.Equal(EspErrorCode.PortNotFound, results[0].Error!.Code);
        Assert.True(results[1].Succeeded, results[1].Error?.Message);
        Assert.Equal(image, ChipOf(good).Flash.Read(0x10000, image.Length));
        Assert.Equal(BoardOutcome.Failed, results[2].Outcome);
        Assert.Equal(EspErrorCode.ChipMismatch, results[2].Error!.Code);
        Assert.True(ChipOf(wrong).Flash.Read(0x10000, 4096).All(b => b == 0xFF));
    }

    [Fact]
    public async Task StopOnFirstErrorLeavesTheRestUntouched()
    {
        var missing = new Board($"{_scheme}:missing");
        var later = Enumerable.Range(0, 3).Select(i => Add($"later{i}", new VirtualChipOptions { Chip = "esp32c3" })).ToList();

        var results = await FarmDeployer.DeployAsync([missing, .. later], Connect, [new DeployImage("app", 0x10000, Image(8192, 3))],
            farm: new FarmOptions { MaxParallel = 1, StopOnFirstError = true, Resume = new ResumeOptions { Attempts = 1 } });

        Assert.Equal(BoardOutcome.Failed, results[0].Outcome);
        Assert.All(results.Skip(1), r => Assert.Equal(BoardOutcome.NotStarted, r.Outcome));
        Assert.All(later, b => Assert.Equal(0, ChipOf(b).Statistics.FramesReceived));
    }

    [Fact]
    public async Task ABoardThatDropsItsLinkResumesOnItsOwn()
    {
        var steady = Add("steady", new VirtualChipOptions { Chip = "esp32c3" });
        var flaky = Add("flaky", new VirtualChipOptions { Chip = "esp32c3", Faults = new FaultOptions { DisconnectAfterHostBytes = 60_000 } });
        var image = new byte[160 * 1024];
        new Random(4).NextBytes(image);

        var results = await FarmDeployer.DeployAsync([steady, flaky], Connect, [new DeployImage("app", 0x20000, image)]);

        Assert.All(results, r => Assert.True(r.Succeeded, $"{r.Board.Name}: {r.Error?.Message}"));
        Assert.Equal(0, results[0].Resumes);
        Assert.InRange(results[1].Resumes, 1, 2);
        Assert.Equal(image, ChipOf(flaky).Flash.Read(0x20000, image.Length));
    }

    [Fact]
    public async Task ABoardWithAnotherMacIsRefused()
    {
        var board = Add("mac", new VirtualChipOptions { Chip = "esp32", Mac = "24:0a:c4:00:00:01" }) with { Mac = "24:0a:c4:00:00:02" };

        var results = await FarmDeployer.DeployAsync([board], Connect, [new DeployImage("app", 0x10000, Image(4096, 5))]);

        Assert.Equal(EspErrorCode.BoardMacMismatch, results[0].Error!.Code);
        Assert.Equal("24:0a:c4:00:00:01", results[0].Mac);
        Assert.Equal(0, ChipOf(board).Statistics.Commands(0x02) + ChipOf(board).Statistics.Commands(0x10));
    }

    [Fact]
    public void PortListsAreSplitAllMeansEveryBridgeAndDuplicatesAreRefused()
    {
        IReadOnlyList<SerialPortInfo> ports = [new("/dev/ttyS0"), new("/dev/ttyUSB0", 0x10C4, 0xEA60), new("/dev/ttyACM0", 0x303A, 0x1001)];
        Assert.Equal(["a", "b", "sim:esp32?flash=4MB&state=x.bin"], Board.FromPorts(["a; b", "sim:esp32?flash=4MB&state=x.bin"], () => ports).Select(b => b.Port));
        Assert.Equal(["/dev/ttyUSB0", "/dev/ttyACM0"], Board.FromPorts(["all"], () => ports).Select(b => b.Port));
        Assert.Equal(EspErrorCode.DuplicatePort, Assert.Throws<EspException>(() => Board.FromPorts(["a;b;a"], () => ports)).Code);
        Assert.Equal(EspErrorCode.PortNotSpecified, Assert.Throws<EspException>(() => Board.FromPorts(["all"], () => [new("/dev/ttyS0")])).Code);
    }
}
