using Esp.Protocol.Images;
using Microsoft.Build.Utilities;

namespace Esp.Build.Tasks.Tests;

/// <summary>Tasks in-process against the virtual chip (sim: with a state file): fast coverage of outputs.</summary>
public sealed class InProcessChipTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("espbuild-inproc-").FullName;
    private readonly string _port;
    private readonly string _state;

    public InProcessChipTests()
    {
        var table = Path.Combine(_dir, "pt.bin");
        File.WriteAllBytes(table, PartitionTable.BuildNanoFramework());
        _state = Path.Combine(_dir, "flash.bin");
        _port = $"sim:esp32?flash=4MB&state={_state}&preload=0x8000:{table}";
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private T Run<T>(T task, bool expectSuccess = true) where T : EspConnectedTask
    {
        var engine = new FakeBuildEngine();
        task.BuildEngine = engine;
        task.Port = _port;
        Assert.True(task.Execute() == expectSuccess, engine.Log);
        return task;
    }

    private TaskItem Image(string name, byte[] data, string address, string? partition = null)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, data);
        var item = new TaskItem(path);
        if (address.Length > 0) item.SetMetadata("Address", address);
        if (partition is not null)
        {
            item.SetMetadata("Partition", partition);
            item.SetMetadata("EnsureErasedAfter", "true");
        }
        return item;
    }

    [Fact]
    public void VerifyListsTheMismatchingRanges()
    {
        var data = new byte[4096];
        new Random(1).NextBytes(data);
        Run(new EspWriteFlash { Images = [Image("a.bin", data, "0x20000")] });
        data[10] ^= 1;
        data[3000] ^= 1;
        var engine = new FakeBuildEngine();
        var verify = new EspVerifyFlash { BuildEngine = engine, Port = _port, Images = [Image("b.bin", data, "0x20000")] };
        Assert.False(verify.Execute());
        Assert.Equal("ESP4001", engine.SingleErrorCode);
        Assert.False(verify.Matched);
        Assert.Equal(["0x0002000A", "0x00020BB8"], verify.Mismatches.Select(m => m.GetMetadata("Address")));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async System.Threading.Tasks.Task LoadRamTakesAnEspImageOrIntelHex(bool hex)
    {
        var chip = Esp.Simulator.VirtualChip.FromUri("sim:esp32");
        var scheme = $"keptloadram{(hex ? 1 : 0)}";
        Esp.Protocol.Transport.TransportFactory.Register(scheme,
            (name, o, _) => System.Threading.Tasks.Task.FromResult(Esp.Simulator.Link.SimulatorPort.Connect(chip, name, o.BaudRate)));
        var image = EspImage.Create(Esp.Protocol.Chips.ChipDatabase.Esp32);
        image.Entry = 0x40080404;
        var code = new byte[0x300];
        new Random(2).NextBytes(code);
        image.Segments.Add(new ImageSegment(0x40080400, code));
        var bytes = image.ToBytes();
        var path = Path.Combine(_dir, hex ? "app.hex" : "app.bin");
        if (hex) File.WriteAllText(path, IntelHex.Write([new ImagePart(0, bytes, "app")]));
        else File.WriteAllBytes(path, bytes);

        var engine = new FakeBuildEngine();
        var task = new EspLoadRam { BuildEngine = engine, Port = scheme + ":chip", Image = path };
        Assert.True(task.Execute(), engine.Log);
        Assert.Equal(0x300, task.BytesLoaded);
        for (int i = 0; i < 100 && chip.LastEntryPoint is null; i++) await System.Threading.Tasks.Task.Delay(10);
        Assert.Equal(0x40080404u, chip.LastEntryPoint);
        Assert.Contains(chip.LoadedSegments, s => s.Address == 0x40080400 && s.Data.AsSpan().SequenceEqual(code));
        await chip.DisposeAsync();
    }

    [Fact]
    public void SfdpAndChipInfoOutputs()
    {
        var sfdp = Run(new EspReadSfdp());
        Assert.Equal(4L * 1024 * 1024, sfdp.DensityBytes);
        Assert.StartsWith("53464450", sfdp.Hex); // "SFDP"
        var info = Run(new EspChipInfo());
        Assert.Equal("esp32", info.ChipKey);
        Assert.Equal("4MB", info.FlashSize);
        Assert.NotNull(info.Mac);
    }

    [Fact]
    public void DeployToTheDeployPartitionThenNothingChanges()
    {
        var pe = TaskUnitTests.Pe("NFMRK1", 10_000);
        var item = Image("deploy.bin", pe, "", partition: "deploy");
        var first = Run(new EspDeploy { Images = [item], SummaryFile = Path.Combine(_dir, "s.json") });
        Assert.Equal(1, first.ImagesWritten);
        Assert.Equal("0x001C0000", first.DeployedImages[0].GetMetadata("Address"));
        var flash = File.ReadAllBytes(_state);
        Assert.Equal(pe, flash.AsSpan(0x1C0000, pe.Length).ToArray());
        var second = Run(new EspDeploy { Images = [item] });
        Assert.Equal(0, second.BytesWritten);
        Assert.Equal(1, second.ImagesSkipped);
        Assert.Contains("nothing changed", second.Summary);
    }

    [Fact]
    public void DeployAddressOverridesThePartitionTable()
    {
        var item = Image("deploy.bin", TaskUnitTests.Pe("NFMRK1", 100), "", partition: "deploy");
        var task = Run(new EspDeploy { Images = [item], DeployAddress = "0x300000" });
        Assert.Equal("0x00300000", task.DeployedImages[0].GetMetadata("Address"));
    }

    [Fact]
    public void StatusAndMemoryTasks()
    {
        var status = Run(new EspReadFlashStatus());
        Assert.StartsWith("0x", status.Status);
        var write = Run(new EspWriteFlashStatus { Value = "0x0200" });
        Assert.True(write.Applied);
        var mem = Run(new EspReadMem { Address = "0x40001000" });
        Assert.Equal("0x00F01D83", mem.Value);
    }
}
