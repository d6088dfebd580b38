using Esp.Protocol.Errors;
using Esp.Protocol.Operations;
using Esp.Simulator;

namespace Esp.Reliability.Tests;

/// <summary>Bugs the fault campaign found, each pinned by a deterministic reproduction.</summary>
public class RecoveryRegressionTests
{
    private static byte[] Pattern(int n, int seed = 1)
    {
        var data = new byte[n];
        new Random(seed).NextBytes(data);
        return data;
    }

    // Campaign seed 7: "The chip's loader does not support FlashData" — the ROM answers a damaged FLASH_DATA with
    // status 01 05 ("invalid message") under the same opcode; that was read as "unsupported" and not retried.
    [Fact]
    public async Task RomFlashDataDamagedOnTheWayIsRetried()
    {
        await using var rig = await Rig.OpenAsync("esp32", stub: false, tamper: TamperingTransport.DropByteIn(0x03));
        var image = Pattern(8192);
        var result = await FlashWriter.WriteAsync(rig.Session, 0x10000, image, new FlashWriteOptions { Compress = false });
        Assert.True(result.Verified);
        Assert.Equal(image, rig.Chip.Flash.Read(0x10000, image.Length));
    }

    // Same for MEM_DATA while uploading the stub: connecting failed with "does not support MemData".
    [Fact]
    public async Task RomMemDataDamagedDuringStubUploadIsRetried()
    {
        await using var rig = await Rig.OpenAsync("esp32c3", stub: true, tamper: TamperingTransport.DropByteIn(0x07));
        Assert.True(rig.Session.IsStub);
        Assert.Equal(ChipMode.Stub, rig.Chip.Mode);
    }

    // The stub answers a block whose length does not match its header with 0xC0; the block was not written, so
    // it is safe to send again (esptool retried only checksum errors and timeouts).
    [Fact]
    public async Task StubFlashDataWithWrongLengthIsRetried()
    {
        await using var rig = await Rig.OpenAsync("esp32", stub: true, tamper: TamperingTransport.DropByteIn(0x03));
        var image = Pattern(40000, 2);
        var result = await FlashWriter.WriteAsync(rig.Session, 0x20000, image, new FlashWriteOptions { Compress = false });
        Assert.True(result.Verified);
        Assert.Equal(image, rig.Chip.Flash.Read(0x20000, image.Length));
    }
}
