using System.Text.Json;
using Esp.Simulator;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace Esp.Build.Tasks.Tests;

/// <summary>
/// Deploy to several boards at once (an EspPort list, EspBoard items): each board plans, writes and verifies on its own
/// connection; the task reports a table, an item per board, a summary record per board and an error per failed board.
/// </summary>
public sealed class ManyBoardsTests : IDisposable
{
    private const uint Address = 0x10000;
    private readonly string _dir = Directory.CreateTempSubdirectory("espbuild-boards-").FullName;
    private readonly byte[] _image = new byte[96 * 1024];

    public ManyBoardsTests() => new Random(16).NextBytes(_image);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string State(string name) => Path.Combine(_dir, name);

    private string Sim(string chip, string state) => $"sim:{chip}?flash=4MB&state={State(state)}";

    private ITaskItem Image()
    {
        var path = Path.Combine(_dir, "app.bin");
        File.WriteAllBytes(path, _image);
        var item = new TaskItem(path);
        item.SetMetadata("Address", $"0x{Address:X}");
        return item;
    }

    private EspDeploy Deploy(FakeBuildEngine engine, string? port = null, ITaskItem[]? boards = null) => new()
    {
        BuildEngine = engine,
        Port = port,
        Boards = boards ?? [],
        Images = [Image()],
        SummaryFile = Path.Combine(_dir, "summary.json"),
        PortWaitMs = 20_000,
    };

    private static ITaskItem Result(EspDeploy deploy, string board) => deploy.BoardResults.Single(i => i.ItemSpec == board);

    private byte[] FlashOf(string state) => File.ReadAllBytes(State(state)).AsSpan((int)Address, _image.Length).ToArray();

    [Fact]
    public void DeploysToEveryListedBoardAndASecondRunFindsThemUnchanged()
    {
        string port = $"{Sim("esp32", "a.bin")};{Sim("esp32c3", "b.bin")};{Sim("esp32s3", "c.bin")}";
        var engine = new FakeBuildEngine();
        var deploy = Deploy(engine, port);

        Assert.True(deploy.Execute(), engine.Log);

        Assert.Equal(["sim:esp32 (a.bin)", "sim:esp32c3 (b.bin)", "sim:esp32s3 (c.bin)"], deploy.BoardResults.Select(i => i.ItemSpec));
        Assert.Equal(["ESP32", "ESP32-C3", "ESP32-S3"], deploy.BoardResults.Select(i => i.GetMetadata("Chip")));
        Assert.Equal(3, deploy.BoardResults.Select(i => i.GetMetadata("Mac")).Distinct().Count());
        Assert.All(deploy.BoardResults, i =>
        {
            Assert.Equal("Succeeded", i.GetMetadata("Outcome"));
            Assert.Equal("written", i.GetMetadata("Result"));
            Assert.Equal(_image.Length.ToString(), i.GetMetadata("BytesWritten"));
            Assert.Equal("true", i.GetMetadata("Verified"));
        });
        foreach (var state in new[] { "a.bin", "b.bin", "c.bin" }) Assert.Equal(_image, FlashOf(state));
        Assert.Contains("Esp.Build on 3 boards: 3 succeeded, 0 failed", engine.Log);
        Assert.Matches(@"sim:esp32c3 \(b\.bin\)\s+ESP32-C3\s+[0-9a-f:]{17}\s+written\s+98304\s+yes", engine.Log);

        using (var summary = JsonDocument.Parse(File.ReadAllText(deploy.SummaryFile!)))
        {
            var boards = summary.RootElement.GetProperty("boards").EnumerateArray().ToList();
            Assert.Equal(3, summary.RootElement.GetProperty("succeeded").GetInt32());
            Assert.Equal(["ESP32", "ESP32-C3", "ESP32-S3"], boards.Select(b => b.GetProperty("chip").GetString()));
            Assert.All(boards, b => Assert.Equal(_image.Length, b.GetProperty("bytesWritten").GetInt64()));
            Assert.All(boards, b => Assert.Equal("written-all", b.GetProperty("images")[0].GetProperty("action").GetString()));
        }

        var again = new FakeBuildEngine();
        var second = Deploy(again, port);
        Assert.True(second.Execute(), again.Log);
        Assert.All(second.BoardResults, i => Assert.Equal(("unchanged", "0"), (i.GetMetadata("Result"), i.GetMetadata("BytesWritten"))));
        Assert.Contains("3 succeeded (3 unchanged), 0 failed", again.Log);
    }

    [Fact]
    public void AFailingBoardFailsTheBuildByNameWhileTheOthersFinish()
    {
        using var dead = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        dead.Start();
        int deadPort = ((System.Net.IPEndPoint)dead.LocalEndpoint).Port;
        dead.Stop(); // nothing listens there any more
        var engine = new FakeBuildEngine();
        var deploy = Deploy(engine, $"{Sim("esp32", "a.bin")};socket://127.0.0.1:{deadPort};{Sim("esp32c3", "b.bin")}");
        deploy.PortWaitMs = 300;

        Assert.False(deploy.Execute());

        var failed = Result(deploy, $"socket://127.0.0.1:{deadPort}");
        Assert.Equal("Failed", failed.GetMetadata("Outcome"));
        Assert.Equal("ESP2001", failed.GetMetadata("ErrorCode"));
        var error = Assert.Single(engine.Errors);
        Assert.Equal("ESP2001", error.Code);
        Assert.Contains($"Board socket://127.0.0.1:{deadPort}", error.Message);
        Assert.Equal(_image, FlashOf("a.bin"));
        Assert.Equal(_image, FlashOf("b.bin"));
        Assert.Equal("Succeeded", Result(deploy, "sim:esp32 (a.bin)").GetMetadata("Outcome"));
        Assert.Contains("2 succeeded, 1 failed", engine.Log);
        using var summary = JsonDocument.Parse(File.ReadAllText(deploy.SummaryFile!));
        Assert.Equal(1, summary.RootElement.GetProperty("failed").GetInt32());
        Assert.Equal("ESP2001", summary.RootElement.GetProperty("boards")[1].GetProperty("error").GetProperty("code").GetString());
    }

    [Fact]
    public void ABoardWhoseLinkDropsResumesAloneBesideAnRfc2217Board()
    {
        using var dropping = new VirtualChip(new VirtualChipOptions { Chip = "esp32c3", Faults = new FaultOptions { DisconnectAfterHostBytes = 40_000 } });
        using var tcp = new TcpSerialServer(dropping);
        using var remote = new VirtualChip(new VirtualChipOptions { Chip = "esp32" });
        using var rfc2217 = new Rfc2217Server(remote);
        var engine = new FakeBuildEngine();
        var deploy = Deploy(engine, $"socket://127.0.0.1:{tcp.Port};rfc2217://127.0.0.1:{rfc2217.Port};{Sim("esp32s3", "c.bin")}");
        deploy.Before = "no-reset";
        deploy.After = "no-reset";

        Assert.True(deploy.Execute(), engine.Log);

        Assert.Equal(1, dropping.Statistics.FaultCount(FaultKind.Disconnect));
        Assert.InRange(int.Parse(Result(deploy, $"socket://127.0.0.1:{tcp.Port}").GetMetadata("Resumes")), 1, 2);
        Assert.Equal("0", Result(deploy, $"rfc2217://127.0.0.1:{rfc2217.Port}").GetMetadata("Resumes"));
        Assert.Equal(_image, dropping.Flash.Read(Address, _image.Length));
        Assert.Equal(_image, remote.Flash.Read(Address, _image.Length));
        Assert.Equal(_image, FlashOf("c.bin"));
        Assert.Contains("reconnected to", engine.Log);
    }

    [Fact]
    public void BoardItemsCheckTheChipAndMacOfEachBoard()
    {
        var wrongMac = new TaskItem(Sim("esp32", "a.bin"));
        wrongMac.SetMetadata("Name", "rack-1");
        wrongMac.SetMetadata("Mac", "02:00:00:00:00:01");
        var wrongChip = new TaskItem(Sim("esp32c3", "b.bin"));
        wrongChip.SetMetadata("Name", "rack-2");
        wrongChip.SetMetadata("Chip", "esp32");
        var good = new TaskItem(Sim("esp32s3", "c.bin"));
        good.SetMetadata("Name", "rack-3");
        good.SetMetadata("Chip", "esp32s3");
        var engine = new FakeBuildEngine();
        var deploy = Deploy(engine, boards: [wrongMac, wrongChip, good]);

        Assert.False(deploy.Execute());

        Assert.Equal("ESP3008", Result(deploy, "rack-1").GetMetadata("ErrorCode"));
        Assert.Equal("Failed", Result(deploy, "rack-2").GetMetadata("Outcome"));
        Assert.StartsWith("ESP", Result(deploy, "rack-2").GetMetadata("ErrorCode"));
        Assert.Equal("Succeeded", Result(deploy, "rack-3").GetMetadata("Outcome"));
        Assert.Equal(2, engine.Errors.Count);
        Assert.Contains(engine.Errors, e => e.Message!.StartsWith("Board rack-1 ", StringComparison.Ordinal) && e.Code == "ESP3008");
        Assert.Equal(_image, FlashOf("c.bin"));
        // Nothing was written to the boards that are not what the items say.
        Assert.False(File.Exists(State("a.bin")) && FlashOf("a.bin").AsSpan().SequenceEqual(_image));
        Assert.False(File.Exists(State("b.bin")) && FlashOf("b.bin").AsSpan().SequenceEqual(_image));
    }

    [Fact]
    public void StopOnFirstErrorLeavesTheBoardsAfterTheFailureUntouched()
    {
        var bad = new TaskItem(Sim("esp32", "a.bin"));
        bad.SetMetadata("Mac", "02:00:00:00:00:01");
        var engine = new FakeBuildEngine();
        var deploy = Deploy(engine, boards: [bad, new TaskItem(Sim("esp32c3", "b.bin"))]);
        deploy.MaxParallel = 1;
        deploy.StopOnFirstError = true;

        Assert.False(deploy.Execute());

        Assert.Equal(["Failed", "NotStarted"], deploy.BoardResults.Select(i => i.GetMetadata("Outcome")));
        Assert.False(File.Exists(State("b.bin")));
        Assert.Contains("not started", engine.Log);
    }

    [Fact]
    public async System.Threading.Tasks.Task CancellingStopsEveryBoardAndReportsWhereEachStopped()
    {
        var engine = new FakeBuildEngine();
        // Links throttled to 115200 Bd: 96 KiB of random data takes seconds, so the cancel comes mid-way.
        var deploy = Deploy(engine, $"{Sim("esp32", "a.bin")}&baud-throttle=1;{Sim("esp32c3", "b.bin")}&baud-throttle=1");
        deploy.Baud = "115200";
        deploy.MaxParallel = 1;

        var run = System.Threading.Tasks.Task.Run(deploy.Execute);
        await System.Threading.Tasks.Task.Delay(1500);
        deploy.Cancel();

        Assert.False(await run.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(["Cancelled", "NotStarted"], deploy.BoardResults.Select(i => i.GetMetadata("Outcome")));
        Assert.Equal("ESP9001", engine.SingleErrorCode);
        Assert.Contains("0 succeeded, 0 failed, 2 cancelled or not started", engine.Log);
        Assert.Matches(@"sim:esp32 \(a\.bin\).*cancelled.*ESP9001", engine.Log); // the table says where the cancelled board stopped
        Assert.False(File.Exists(State("b.bin")));
    }

    [Fact]
    public void TheSamePortTwiceAndATaskForOneBoardAreClearErrors()
    {
        var engine = new FakeBuildEngine();
        var twice = Deploy(engine, $"{Sim("esp32", "a.bin")};{Sim("esp32", "a.bin")}");
        Assert.False(twice.Execute());
        Assert.Equal("ESP1023", engine.SingleErrorCode);

        var infoEngine = new FakeBuildEngine();
        var info = new EspChipInfo { BuildEngine = infoEngine, Port = $"{Sim("esp32", "a.bin")};{Sim("esp32c3", "b.bin")}" };
        Assert.False(info.Execute());
        Assert.Equal("ESP1001", infoEngine.SingleErrorCode);
        Assert.Contains("Deploy", infoEngine.Errors[0].Message + infoEngine.Errors[0].HelpKeyword + infoEngine.Log);
    }

    [Fact]
    public void PortAllTakesEveryKnownEspBridge()
    {
        // Two CP2102N bridges and a port that is no ESP bridge (no USB id): "all" means the two.
        var ports = new[]
        {
            new Esp.Protocol.Transport.SerialPortInfo(Sim("esp32", "a.bin"), 0x10C4, 0xEA60),
            new Esp.Protocol.Transport.SerialPortInfo(Sim("esp32c3", "b.bin"), 0x10C4, 0xEA60),
            new Esp.Protocol.Transport.SerialPortInfo("/dev/ttyS0"),
        };
        var engine = new FakeBuildEngine();
        var deploy = Deploy(engine, "all");
        deploy.ListPorts = () => ports;

        Assert.True(deploy.Execute(), engine.Log);

        Assert.Equal(["ESP32", "ESP32-C3"], deploy.BoardResults.Select(i => i.GetMetadata("Chip")));
        Assert.Equal(_image, FlashOf("a.bin"));
        Assert.Equal(_image, FlashOf("b.bin"));
    }

    [Fact]
    public void AListOfOnePortIsTheSingleBoardDeploy()
    {
        var engine = new FakeBuildEngine();
        var deploy = Deploy(engine, $"{Sim("esp32c3", "b.bin")};");
        Assert.True(deploy.Execute(), engine.Log);
        Assert.Empty(deploy.BoardResults);
        Assert.Equal("ESP32-C3", deploy.ChipName);
        Assert.Equal(_image.Length, deploy.BytesWritten);
    }
}
