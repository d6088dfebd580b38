using Esp.Protocol.Chips;
using Esp.Protocol.Errors;
using Esp.Protocol.Images;
using Esp.Protocol.Operations;

namespace Esp.Protocol.Tests.Engine;

/// <summary>The composer's rules without a chip: placement by address, override or partition; the erased end word; header patches.</summary>
public class DeploymentComposerTests
{
    private const uint DeployOffset = 0x1C0000;
    private const uint DeploySize = 0x240000;
    private static readonly ChipDefinition Esp32 = ChipDatabase.Esp32;
    private static readonly ChipPartitionTable NanoTable = new(PartitionTable.DefaultOffset, PartitionTable.BuildNanoFramework());

    private static byte[] Bytes(int n, int seed = 1)
    {
        var b = new byte[n];
        new Random(seed).NextBytes(b);
        return b;
    }

    /// <summary>An ESP32 bootloader-like image: 40m, 1MB, dio in its header, SHA-256 appended.</summary>
    private static byte[] Bootloader()
    {
        var image = EspImage.Create(Esp32);
        image.Entry = 0x40080404;
        image.FlashMode = FlashMode.Dio;
        image.FlashSizeCode = Esp32.FlashSizes["1MB"];
        image.Segments.Add(new ImageSegment(0x40080400, Bytes(0x200, 3)));
        return image.ToBytes();
    }

    private static ComposedDeployment Compose(DeployRequest request, ComposeOptions? options = null, ChipPartitionTable? table = null, int? flashSize = null) =>
        DeploymentComposer.Compose(Esp32, [request], options, table ?? NanoTable, flashSize);

    [Fact]
    public void AnAddressIsKeptAndTheBytesAreUntouched()
    {
        var data = Bytes(100);
        var entry = Compose(new DeployRequest("a.bin", data) { Address = 0x20000 }).Entries.Single();
        Assert.Equal(DeployPlacement.Address, entry.Placement);
        Assert.Equal(0x20000u, entry.Image.Address);
        Assert.Same(data, entry.Image.Data);
        Assert.Null(entry.Partition);
    }

    [Theory]
    [InlineData("deploy")]
    [InlineData("Deploy")]
    [InlineData("0x84")]
    [InlineData("132")]
    public void TheDeployPartitionIsFoundByNameOrSubtype(string partition)
    {
        var entry = Compose(new DeployRequest("nf", Bytes(10)) { Partition = partition }).Entries.Single();
        Assert.Equal(DeployPlacement.Partition, entry.Placement);
        Assert.Equal(DeployOffset, entry.Image.Address);
        Assert.Equal("deploy", entry.Partition!.Label);
    }

    [Fact]
    public void APartitionIsFoundByLabel()
    {
        var entry = Compose(new DeployRequest("nvs.bin", Bytes(10)) { Partition = "nvs" }).Entries.Single();
        Assert.Equal(0x9000u, entry.Image.Address);
    }

    [Fact]
    public void AnAddressWinsOverAPartition()
    {
        var entry = Compose(new DeployRequest("a", Bytes(10)) { Address = 0x30000, Partition = "deploy" }, table: null).Entries.Single();
        Assert.Equal(0x30000u, entry.Image.Address);
        Assert.Equal(DeployPlacement.Address, entry.Placement);
    }

    [Fact]
    public void TheOverrideReplacesThePartitionTable()
    {
        var deployment = DeploymentComposer.Compose(Esp32, [new DeployRequest("nf", Bytes(10)) { Partition = "deploy" }],
            new ComposeOptions { PartitionAddressOverride = 0x300000 }, table: null, flashSize: null);
        var entry = deployment.Entries.Single();
        Assert.Equal(0x300000u, entry.Image.Address);
        Assert.Equal(DeployPlacement.AddressOverride, entry.Placement);
        Assert.Null(deployment.PartitionTable);
    }

    [Fact]
    public void TheErasedEndWordIsAppendedToACopy()
    {
        var data = Bytes(10);
        var original = (byte[])data.Clone();
        var image = Compose(new DeployRequest("nf", data) { Partition = "deploy", EnsureErasedAfter = true }).Images.Single();
        Assert.Equal(14, image.Data.Length);
        Assert.Equal(original, image.Data[..10]);
        Assert.Equal(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF }, image.Data[10..]);
        Assert.Equal(original, data);
    }

    [Fact]
    public void TheErasedEndWordMustFitInThePartitionToo()
    {
        var exact = Bytes((int)DeploySize);
        Assert.Equal(DeployOffset, Compose(new DeployRequest("nf", exact) { Partition = "deploy" }).Images.Single().Address);
        var ex = Assert.Throws<EspException>(() => Compose(new DeployRequest("nf", exact) { Partition = "deploy", EnsureErasedAfter = true }));
        Assert.Equal(EspErrorCode.ImageTooLargeForPartition, ex.Code);
        Assert.Contains("with the erased end word", ex.Message);
        Assert.Contains("'deploy'", ex.Message);
    }

    [Fact]
    public void AMissingPartitionListsWhatTheTableHolds()
    {
        var ex = Assert.Throws<EspException>(() => Compose(new DeployRequest("x", Bytes(10)) { Partition = "ota_0" }));
        Assert.Equal(EspErrorCode.NoDeployPartition, ex.Code);
        Assert.Contains("partition 'ota_0'", ex.Message);
        Assert.Contains("factory 0x00/0x00 at 0x10000", ex.Message);
    }

    [Fact]
    public void AnErasedTableMeansNoPartitions()
    {
        var erased = new byte[PartitionTable.MaxLength];
        Array.Fill(erased, (byte)0xFF);
        var ex = Assert.Throws<EspException>(() => Compose(new DeployRequest("nf", Bytes(10)) { Partition = "deploy" }, table: new ChipPartitionTable(0x8000, erased)));
        Assert.Equal(EspErrorCode.NoDeployPartition, ex.Code);
        Assert.Contains("0x00008000 is erased", ex.Message);
    }

    [Fact]
    public void AnImageNeedsAnAddressOrAPartition()
    {
        var ex = Assert.Throws<EspException>(() => Compose(new DeployRequest("x", Bytes(10))));
        Assert.Equal(EspErrorCode.InvalidArgument, ex.Code);
    }

    [Fact]
    public void TheBootloaderHeaderGetsTheRequestedModeAndTheDetectedSize()
    {
        var data = Bootloader();
        var original = (byte[])data.Clone();
        var deployment = Compose(new DeployRequest("boot", data) { Address = Esp32.BootloaderOffset },
            new ComposeOptions { Header = new FlashHeaderSettings("dout", "80m", "detect") }, flashSize: 8 * 1024 * 1024);
        var entry = deployment.Entries.Single();
        Assert.True(entry.HeaderPatched);
        Assert.False(entry.FlashSizeUnknown);
        Assert.Equal("8MB", deployment.Header.Size);
        var patched = EspImage.Parse(entry.Image.Data, Esp32);
        Assert.Equal(FlashMode.Dout, patched.FlashMode);
        Assert.Equal("8MB", patched.FlashSizeName(Esp32));
        Assert.Equal("80m", patched.FlashFrequencyName(Esp32));
        Assert.True(patched.Sha256Valid != false);
        Assert.Equal(original, data); // the request's bytes stay as they were
    }

    [Fact]
    public void OnlyTheImageAtTheBootloaderAddressIsPatched()
    {
        var data = Bootloader();
        var entry = Compose(new DeployRequest("app", data) { Address = 0x10000 },
            new ComposeOptions { Header = new FlashHeaderSettings("dout", null, "4MB") }).Entries.Single();
        Assert.False(entry.HeaderPatched);
        Assert.Same(data, entry.Image.Data);
    }

    [Fact]
    public void AnUnknownFlashSizeKeepsTheHeadersSize()
    {
        var data = Bootloader();
        var deployment = Compose(new DeployRequest("boot", data) { Address = Esp32.BootloaderOffset },
            new ComposeOptions { Header = new FlashHeaderSettings(Size: "detect") }, flashSize: null);
        var entry = deployment.Entries.Single();
        Assert.True(entry.FlashSizeUnknown);
        Assert.False(entry.HeaderPatched);
        Assert.Equal("keep", deployment.Header.Size);
        Assert.Same(data, entry.Image.Data);
    }

    [Theory]
    [InlineData(null, null, null)]
    [InlineData("keep", "keep", "keep")]
    [InlineData("dio", null, "1MB")] // what the header already says
    public void KeepOrTheSameValuesChangeNothing(string? mode, string? freq, string? size)
    {
        var data = Bootloader();
        var entry = Compose(new DeployRequest("boot", data) { Address = Esp32.BootloaderOffset },
            new ComposeOptions { Header = new FlashHeaderSettings(mode, freq, size) }).Entries.Single();
        Assert.False(entry.HeaderPatched);
        Assert.Same(data, entry.Image.Data);
    }

    [Fact]
    public void DataThatIsNotAnImageIsNotPatched()
    {
        var data = Bytes(64, 9);
        data[0] = 0x00;
        var entry = Compose(new DeployRequest("raw", data) { Address = Esp32.BootloaderOffset },
            new ComposeOptions { Header = new FlashHeaderSettings("dout") }).Entries.Single();
        Assert.False(entry.HeaderPatched);
        Assert.Equal(data, entry.Image.Data);
    }

    [Fact]
    public void ASizeTheChipDoesNotHaveIsRefused()
    {
        var ex = Assert.Throws<EspException>(() => Compose(new DeployRequest("boot", Bootloader()) { Address = Esp32.BootloaderOffset },
            new ComposeOptions { Header = new FlashHeaderSettings(Size: "5MB") }));
        Assert.Equal(EspErrorCode.InvalidArgument, ex.Code);
        Assert.Contains("5MB", ex.Message);
    }

    [Fact]
    public void DetectResolvesToTheFlashSizeOrKeep()
    {
        var settings = new FlashHeaderSettings("qio", null, "DETECT");
        Assert.True(settings.DetectsSize);
        Assert.Equal(new FlashHeaderSettings("qio", null, "16MB"), settings.WithDetectedSize(16 * 1024 * 1024));
        Assert.Equal(new FlashHeaderSettings("qio", null, "keep"), settings.WithDetectedSize(null));
        Assert.False(new FlashHeaderSettings(Size: "keep").Any);
        Assert.True(new FlashHeaderSettings(Size: "detect").Any);
    }
}
