using Esp.Protocol.Chips;
using Esp.Protocol.Commands;
using Esp.Protocol.Errors;
using Esp.Protocol.Images;
using Esp.Protocol.Operations;
using Esp.Simulator;
using Esp.TestSupport;

namespace Esp.Protocol.Tests.EndToEnd;

/// <summary>Composing against a virtual chip: the partition table is read once per deploy, and detect is the chip's flash size.</summary>
public class DeploymentCompositionTests
{
    private const uint DeployOffset = 0x1C0000;

    private static VirtualChipOptions WithNanoTable(int flashSize = 4 * 1024 * 1024) => new()
    {
        FlashSize = flashSize,
        Preloads = [new FlashPreload(PartitionTable.DefaultOffset, PartitionTable.BuildNanoFramework())],
    };

    /// <summary>Commands that read the table: READ_FLASH through the stub, 64-byte READ_FLASH_SLOW on the ROM.</summary>
    private static long TableReads(SimRig c, bool stub) => stub
        ? c.Chip.Statistics.Commands((byte)Opcode.ReadFlash)
        : c.Chip.Statistics.Commands((byte)Opcode.ReadFlashSlow) / (PartitionTable.MaxLength / FlashReader.RomReadChunk);

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ADeployToAPartitionReadsThePartitionTableOnce(bool stub)
    {
        await using var c = await SimRig.OpenAsync("esp32", stub, WithNanoTable());
        var data = new byte[5000];
        new Random(4).NextBytes(data);
        var composed = await DeploymentComposer.ComposeAsync(c.Session, [new DeployRequest("nf", data) { Partition = "deploy", EnsureErasedAfter = true }]);
        Assert.NotNull(composed.PartitionTable);
        Assert.Empty(await DeployGuards.CheckAsync(c.Session, composed));
        var result = await Deployer.DeployAsync(c.Session, composed.Images);

        Assert.Equal(1, TableReads(c, stub));
        Assert.Equal(DeployOffset, result.Images.Single().Address);
        Assert.True(result.Images.Single().Verified);
        Assert.Equal(data, c.Chip.Flash.Read(DeployOffset, data.Length));
        Assert.All(c.Chip.Flash.Read(DeployOffset + (uint)data.Length, 4), b => Assert.Equal(0xFF, b));
    }

    [Fact]
    public async Task WithAddressesOnlyTheGuardsReadTheTableOnce()
    {
        await using var c = await SimRig.OpenAsync("esp32", true, WithNanoTable());
        var composed = await DeploymentComposer.ComposeAsync(c.Session, [new DeployRequest("a", new byte[64]) { Address = 0x200000 }]);
        Assert.Null(composed.PartitionTable);
        Assert.Equal(0, TableReads(c, stub: true));
        await DeployGuards.CheckAsync(c.Session, composed);
        Assert.Equal(1, TableReads(c, stub: true));
    }

    [Fact]
    public async Task TheGuardsCheckAgainstTheTableTheComposerRead()
    {
        await using var c = await SimRig.OpenAsync("esp32", true, WithNanoTable());
        // An image at the end of the factory partition runs into the deploy partition: the handed-over table says so.
        var composed = await DeploymentComposer.ComposeAsync(c.Session,
            [new DeployRequest("nf", new byte[16]) { Partition = "deploy" }, new DeployRequest("app", new byte[0x20000]) { Address = 0x1B0000 }]);
        var findings = await DeployGuards.CheckAsync(c.Session, composed, new GuardOptions { Force = true });
        Assert.Contains(findings, f => f.Code == EspErrorCode.ImagePartitionOverflow);
        Assert.Equal(1, TableReads(c, stub: true));
    }

    [Theory]
    [InlineData(2)]
    [InlineData(8)]
    public async Task DetectPatchesTheBootloaderWithTheChipsFlashSize(int megabytes)
    {
        await using var c = await SimRig.OpenAsync("esp32", true, WithNanoTable(megabytes * 1024 * 1024));
        var image = EspImage.Create(ChipDatabase.Esp32);
        image.Entry = 0x40080404;
        image.FlashSizeCode = ChipDatabase.Esp32.FlashSizes["1MB"];
        image.Segments.Add(new ImageSegment(0x40080400, new byte[0x100]));
        var composed = await DeploymentComposer.ComposeAsync(c.Session, [new DeployRequest("boot", image.ToBytes()) { Address = 0x1000 }],
            new ComposeOptions { Header = new FlashHeaderSettings(Size: "detect") });
        Assert.Equal(megabytes * 1024 * 1024, composed.FlashSize);
        Assert.True(composed.Entries.Single().HeaderPatched);
        Assert.Equal($"{megabytes}MB", EspImage.Parse(composed.Images.Single().Data, ChipDatabase.Esp32).FlashSizeName(ChipDatabase.Esp32));
    }
}
