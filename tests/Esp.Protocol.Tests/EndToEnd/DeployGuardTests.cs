using Esp.Protocol.Chips;
using Esp.Protocol.Errors;
using Esp.Protocol.Images;
using Esp.Protocol.Operations;
using Esp.Simulator;
using Esp.TestSupport;

namespace Esp.Protocol.Tests.EndToEnd;

/// <summary>Each deploy guard fires on a virtual chip set up to trigger it, is overridable, and stays quiet on a valid deploy.</summary>
public class DeployGuardTests
{
    private static readonly byte[] Table = PartitionTable.BuildNanoFramework(); // factory app at 0x10000, 0x1B0000 bytes

    private static VirtualChipOptions Options(int? revision = null, int flashSize = 4 * 1024 * 1024, int cryptCnt = 0, bool sdm = false) => new()
    {
        FlashSize = flashSize,
        Revision = revision,
        FlashCryptCnt = cryptCnt,
        SecureDownload = sdm,
        Preloads = [new FlashPreload(PartitionTable.DefaultOffset, Table)],
    };

    private static byte[] App(ChipDefinition chip, Action<EspImage>? edit = null, int size = 4096)
    {
        var image = EspImage.Create(chip);
        var ram = chip.MemoryMap.Where(r => r.IsRam && !r.IsAlias).MaxBy(r => r.End - r.Start)!;
        image.Entry = ram.Start + 0x100;
        image.FlashSizeCode = chip.FlashSizes["4MB"];
        image.Segments.Add(new ImageSegment(ram.Start + 0x100, new byte[size]));
        edit?.Invoke(image);
        return image.ToBytes();
    }

    private static async Task<GuardFinding> ExpectAsync(string chipKey, VirtualChipOptions options, byte[] image, EspErrorCode code,
        uint address = 0x10000, GuardOptions? guard = null)
    {
        await using var c = await SimRig.OpenAsync(chipKey, stub: false, options);
        var images = new[] { new DeployImage("app.bin", address, image) };
        var ex = await Assert.ThrowsAsync<EspException>(() => DeployGuards.CheckAsync(c.Session, images, guard));
        Assert.Equal(code, ex.Code);
        Assert.Contains("EspForce=true", ex.Help);

        // The override turns the error into a finding and lets the deploy go ahead.
        var findings = await DeployGuards.CheckAsync(c.Session, images, (guard ?? new GuardOptions()) with { Force = true });
        Assert.Contains(findings, f => f.Code == code);
        return findings.First(f => f.Code == code);
    }

    [Fact]
    public async Task ValidDeployPassesEveryGuard()
    {
        await using var c = await SimRig.OpenAsync("esp32c3", false, Options());
        var findings = await DeployGuards.CheckAsync(c.Session, [new DeployImage("app.bin", 0x10000, App(ChipDatabase.Esp32C3))],
            new GuardOptions { ChipRevisionRange = "[0.3,1.0)" });
        Assert.Empty(findings);
    }

    [Fact]
    public async Task ImageForAnotherChip()
    {
        var f = await ExpectAsync("esp32c3", Options(), App(ChipDatabase.Esp32), EspErrorCode.ImageChipMismatch);
        Assert.Contains("built for ESP32", f.Message);
        Assert.Contains("ESP32-C3", f.Message);
    }

    [Fact]
    public async Task ImageRequiresNewerRevision()
    {
        var f = await ExpectAsync("esp32c3", Options(revision: 3), App(ChipDatabase.Esp32C3, i => i.MinRevFull = 100), EspErrorCode.ChipRevisionOutOfRange);
        Assert.Contains("v1.0", f.Message);
        Assert.Contains("v0.3", f.Message);
    }

    [Fact]
    public async Task RevisionRangeProperty()
    {
        var f = await ExpectAsync("esp32", Options(revision: 100), App(ChipDatabase.Esp32), EspErrorCode.ChipRevisionOutOfRange,
            guard: new GuardOptions { ChipRevisionRange = "[3.0,)" });
        Assert.Contains("v1.0", f.Message);
        Assert.Contains("3.0", f.Message);
    }

    [Fact]
    public async Task HeaderFlashSizeLargerThanTheChip()
    {
        var f = await ExpectAsync("esp32", Options(flashSize: 2 * 1024 * 1024), App(ChipDatabase.Esp32), EspErrorCode.ImageFlashSizeTooLarge,
            guard: new GuardOptions { PartitionTableOffset = null });
        Assert.Contains("4MB", f.Message);
        Assert.Contains("2MB", f.Message);
    }

    [Fact]
    public async Task ImageCrossesTheEndOfItsPartition()
    {
        // The deploy partition starts at 0x1C0000: an image at the end of the factory app runs over it.
        var f = await ExpectAsync("esp32", Options(), App(ChipDatabase.Esp32, size: 0x20000), EspErrorCode.ImagePartitionOverflow, address: 0x1B0000);
        Assert.Contains("'factory'", f.Message);
    }

    [Fact]
    public async Task SegmentOutsideTheMemoryMap()
    {
        var image = App(ChipDatabase.Esp32, i => i.Segments.Add(new ImageSegment(0x10000000, new byte[16])));
        var f = await ExpectAsync("esp32", Options(), image, EspErrorCode.SegmentOutsideMemoryMap);
        Assert.Contains("0x10000000", f.Message);
    }

    [Fact]
    public async Task FlashEncryptionRefusesPlainWrites()
    {
        var f = await ExpectAsync("esp32c3", Options(cryptCnt: 1), App(ChipDatabase.Esp32C3), EspErrorCode.FlashEncrypted);
        Assert.Contains("encrypt", f.Help);
    }

    [Fact]
    public async Task SecureDownloadModeRefusesPlainWrites()
    {
        var f = await ExpectAsync("esp32c3", Options(sdm: true), App(ChipDatabase.Esp32C3), EspErrorCode.SecureDownloadMode);
        Assert.Contains("Secure Download Mode", f.Message);
    }

    [Theory]
    [InlineData("[3.0,)", 300, true)]
    [InlineData("[3.0,)", 201, false)]
    [InlineData("[1.0,3.99]", 301, true)]
    [InlineData("3.1", 301, true)]
    [InlineData("v3.1", 300, false)]
    public void RevisionRangesUseNuGetSemantics(string range, int revision, bool ok) =>
        Assert.Equal(ok, DeployGuards.ParseRevisionRange(range).Satisfies(DeployGuards.RevisionVersion(revision)));

    [Theory]
    [InlineData("three")]
    [InlineData("[3.0")]
    public void BadRevisionRangeIsNamed(string range)
    {
        var ex = Assert.Throws<EspException>(() => DeployGuards.ParseRevisionRange(range));
        Assert.Equal(EspErrorCode.InvalidVersionRange, ex.Code);
        Assert.Contains(range, ex.Message);
    }
}
