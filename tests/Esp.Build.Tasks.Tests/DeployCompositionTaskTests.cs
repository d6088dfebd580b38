using Esp.Protocol.Chips;
using Esp.Protocol.Images;
using Esp.Simulator;
using Microsoft.Build.Utilities;

namespace Esp.Build.Tasks.Tests;

/// <summary>
/// The tasks compose through the engine: EspFlashSize=detect patches a bootloader's header with the chip's flash size
/// (Deploy, EspWriteFlash, EspVerifyFlash), and a deploy reads the partition table from the chip once.
/// </summary>
public sealed class DeployCompositionTaskTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("espbuild-compose-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>A sim: port with an 8 MB flash (not the 4 MB default, so detect is seen) and nanoFramework's table.</summary>
    private (string Port, string State) Chip()
    {
        var table = Path.Combine(_dir, "pt.bin");
        File.WriteAllBytes(table, PartitionTable.BuildNanoFramework());
        var state = Path.Combine(_dir, "flash.bin");
        return ($"sim:esp32?flash=8MB&state={state}&preload=0x8000:{table}", state);
    }

    private static T Run<T>(T task, string port) where T : EspConnectedTask
    {
        var engine = new FakeBuildEngine();
        task.BuildEngine = engine;
        task.Port = port;
        Assert.True(task.Execute(), engine.Log);
        return task;
    }

    /// <summary>An ESP32 bootloader-like image whose header says dio, 1MB.</summary>
    private TaskItem Bootloader()
    {
        var image = EspImage.Create(ChipDatabase.Esp32);
        image.Entry = 0x40080404;
        image.FlashSizeCode = ChipDatabase.Esp32.FlashSizes["1MB"];
        image.Segments.Add(new ImageSegment(0x40080400, new byte[0x200]));
        var path = Path.Combine(_dir, "bootloader.bin");
        File.WriteAllBytes(path, image.ToBytes());
        var item = new TaskItem(path);
        item.SetMetadata("Address", "0x1000");
        return item;
    }

    private static EspImage WrittenBootloader(string state) =>
        EspImage.Parse(File.ReadAllBytes(state).AsSpan(0x1000, 0x1000), ChipDatabase.Esp32);

    [Fact]
    public void DeployWithFlashSizeDetectWritesTheChipsFlashSize()
    {
        var (port, state) = Chip();
        var deploy = Run(new EspDeploy { Images = [Bootloader()], FlashSize = "detect", FlashMode = "dout" }, port);
        Assert.Equal(1, deploy.ImagesWritten);
        var written = WrittenBootloader(state);
        Assert.Equal("8MB", written.FlashSizeName(ChipDatabase.Esp32));
        Assert.Equal(FlashMode.Dout, written.FlashMode);
        Assert.True(written.Sha256Valid != false);

        // The same settings compose the same bytes: nothing changed.
        var again = Run(new EspDeploy { Images = [Bootloader()], FlashSize = "DETECT", FlashMode = "dout" }, port);
        Assert.Equal(0, again.BytesWritten);
    }

    [Fact]
    public void DeployWithFlashSizeKeepLeavesTheHeader()
    {
        var (port, state) = Chip();
        Run(new EspDeploy { Images = [Bootloader()], FlashSize = "keep", FlashMode = "keep", FlashFreq = "keep" }, port);
        Assert.Equal("1MB", WrittenBootloader(state).FlashSizeName(ChipDatabase.Esp32));
    }

    [Fact]
    public void WriteFlashAndVerifyFlashWithFlashSizeDetect()
    {
        var (port, state) = Chip();
        Run(new EspWriteFlash { Images = [Bootloader()], FlashSize = "detect" }, port);
        Assert.Equal("8MB", WrittenBootloader(state).FlashSizeName(ChipDatabase.Esp32));

        // verify compares with the same patch, so the patched header is no mismatch…
        Assert.True(Run(new EspVerifyFlash { Images = [Bootloader()], FlashSize = "detect" }, port).Matched);
        // …and without it, the header really differs.
        var engine = new FakeBuildEngine();
        var plain = new EspVerifyFlash { BuildEngine = engine, Port = port, Images = [Bootloader()], FailOnMismatch = false };
        Assert.True(plain.Execute(), engine.Log);
        Assert.False(plain.Matched);
        Assert.Equal("0x00001003", plain.Mismatches[0].GetMetadata("Address"));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async System.Threading.Tasks.Task ADeployReadsThePartitionTableOnce(bool noStub)
    {
        var table = Path.Combine(_dir, "pt.bin");
        File.WriteAllBytes(table, PartitionTable.BuildNanoFramework());
        await using var chip = VirtualChip.FromUri($"sim:esp32?flash=4MB&preload=0x8000:{table}");
        var scheme = $"keptdeploy{(noStub ? 1 : 0)}";
        Esp.Protocol.Transport.TransportFactory.Register(scheme,
            (name, o, _) => System.Threading.Tasks.Task.FromResult(Esp.Simulator.Link.SimulatorPort.Connect(chip, name, o.BaudRate)));
        var pe = TaskUnitTests.Pe("NFMRK1", 3000);
        var path = Path.Combine(_dir, "deploy.bin");
        File.WriteAllBytes(path, pe);
        var item = new TaskItem(path);
        item.SetMetadata("Partition", "deploy");
        item.SetMetadata("EnsureErasedAfter", "true");

        var deploy = Run(new EspDeploy { Images = [item], NoStub = noStub }, scheme + ":chip");
        Assert.Equal("0x001C0000", deploy.DeployedImages[0].GetMetadata("Address"));
        long reads = noStub
            ? chip.Statistics.Commands(0x0E) * Esp.Protocol.Operations.FlashReader.RomReadChunk // READ_FLASH_SLOW, 64 bytes each
            : chip.Statistics.Commands(0xD2) * PartitionTable.MaxLength;                        // READ_FLASH of the whole table
        Assert.Equal(PartitionTable.MaxLength, reads);
        Assert.Equal(pe, chip.Flash.Read(0x1C0000, pe.Length));
    }
}
