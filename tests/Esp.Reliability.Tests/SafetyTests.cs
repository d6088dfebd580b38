using Esp.Protocol.Errors;
using Esp.Protocol.Loader;
using Esp.Protocol.Operations;
using Esp.Simulator;
using Esp.Simulator.Link;
using Esp.TestSupport;

namespace Esp.Reliability.Tests;

/// <summary>Engine-level safety: cancellation reports what was written; a deploy resumes on a fresh session.</summary>
public class SafetyTests
{
    private static byte[] Bytes(int n, int seed = 1) { var b = new byte[n]; new Random(seed).NextBytes(b); return b; }

    // Ctrl+C during a write: the error says which ranges the chip acknowledged and which were not written.
    [Fact]
    public async Task CancellingAWriteReportsWhatWasWritten()
    {
        await using var rig = await SimRig.OpenAsync("esp32", stub: true, options: new SimRigOptions { After = "no-reset", Timeouts = EspTimeouts.Default });
        using var cts = new CancellationTokenSource();
        var image = Bytes(0x40000);
        var progress = new InlineProgress(p => { if (p.Operation == "write" && p.Done >= 0x10000) cts.Cancel(); });
        var ex = await Assert.ThrowsAsync<EspWriteIncompleteException>(() =>
            FlashWriter.WriteAsync(rig.Session, 0x100000, image, new FlashWriteOptions { Compress = false }, progress, cts.Token));
        Assert.Equal(EspErrorCode.Cancelled, ex.Code);
        Assert.Single(ex.Unverified);
        Assert.Equal(0x100000u, ex.Unverified[0].Address);
        Assert.True(ex.Unverified[0].Length >= 0x10000);
        Assert.Single(ex.NotWritten);
        Assert.Equal(0x140000ul, ex.NotWritten[0].End);
        Assert.Contains("written but not verified", ex.Message);
        Assert.Contains("not written", ex.Message);
        // What the chip acknowledged is on its flash once it has finished the work it acknowledged (the stub replies to a
        // block before writing it). The last block counted as written may have been cut off on its way, or never sent.
        Assert.True(rig.Chip.WaitUntilIdle(TimeSpan.FromSeconds(10)));
        var written = ex.Unverified[0];
        int sure = (int)written.Length - 0x4000;
        Assert.True(sure >= 0x10000 - 0x4000, $"{written}");
        Assert.Equal(image.AsSpan(0, sure).ToArray(), rig.Chip.Flash.Read(written.Address, sure));
    }

    // A deploy cut off by a dropped link fails with a range report; running it again on a fresh session
    // compares sector MD5s and writes only what is missing.
    [Fact]
    public async Task DeployResumesFromWhatTheChipHolds()
    {
        var image = Bytes(0x30000, 5);
        await using var chip = new VirtualChip(new VirtualChipOptions { Chip = "esp32c3", Faults = new FaultOptions { DisconnectAfterHostBytes = 60_000 } });
        var t1 = SimulatorPort.Connect(chip);
        var s1 = await EspSession.ConnectAsync(Options(t1));
        var ex = await Assert.ThrowsAsync<EspWriteIncompleteException>(() => Deployer.DeployAsync(s1, [new DeployImage("app", 0x20000, image)], new DeployOptions { Compress = false }));
        Assert.Contains("not written", ex.Message);
        await t1.DisposeAsync();

        // A new chip object stands for the same board after re-plugging: same flash, no fault.
        await using var chip2 = new VirtualChip(new VirtualChipOptions { Chip = "esp32c3", Preloads = [new FlashPreload(0, chip.Flash.Read(0, chip.Flash.Size))] });
        await using var t2 = SimulatorPort.Connect(chip2);
        var result = await ResumingDeployer.DeployAsync(_ => EspSession.ConnectAsync(Options(t2)), [new DeployImage("app", 0x20000, image)],
            new DeployOptions { Compress = false }, new ResumeOptions { Finish = false });
        Assert.True(result.Images[0].Verified, ex.Message);
        Assert.True(result.BytesWritten < image.Length, $"rewrote {result.BytesWritten} of {image.Length} bytes");
        Assert.True(ex.Unverified.Sum(s => s.Length) + result.BytesWritten >= image.Length - 0x1000, ex.Message + $" then wrote {result.BytesWritten}");
        Assert.Equal(image, chip2.Flash.Read(0x20000, image.Length));
    }

    // A resume that cannot reconnect (the port or the RFC 2217 server is gone for good) fails with that cause and
    // still says what the first session left written and what not.
    [Fact]
    public async Task AResumeThatCannotReconnectStillReportsTheRanges()
    {
        var image = Bytes(0x30000, 6);
        await using var chip = new VirtualChip(new VirtualChipOptions { Chip = "esp32c3", Faults = new FaultOptions { DisconnectAfterHostBytes = 60_000 } });
        await using var link = SimulatorPort.Connect(chip);
        int connects = 0;
        var ex = await Assert.ThrowsAsync<EspWriteIncompleteException>(() => ResumingDeployer.DeployAsync(ct =>
            ++connects == 1 ? EspSession.ConnectAsync(Options(link), ct) : throw new EspException(EspErrorCode.PortNotFound, "The port went away."),
            [new DeployImage("app", 0x20000, image)], new DeployOptions { Compress = false },
            new ResumeOptions { Finish = false, Backoff = TimeSpan.Zero }));

        Assert.Equal(EspErrorCode.PortNotFound, ex.Code);
        Assert.Equal(2, connects);
        Assert.Equal(2, ex.Attempts);
        Assert.StartsWith("The port went away", ex.Message);
        Assert.Contains("not written", ex.Message);
        Assert.Equal(0x20000ul + (ulong)image.Length, ex.NotWritten[^1].End);
        Assert.IsType<EspException>(ex.InnerException);
    }

    [Fact]
    public async Task ResumingDeployerStopsAtOnceOnErrorsARetryCannotFix()
    {
        int connects = 0;
        await using var chip = new VirtualChip(new VirtualChipOptions { Chip = "esp32" });
        await using var t = SimulatorPort.Connect(chip);
        var ex = await Assert.ThrowsAsync<EspException>(() => ResumingDeployer.DeployAsync(_ => { connects++; return EspSession.ConnectAsync(Options(t, "esp32")); },
            [new DeployImage("app", 0x10001, Bytes(64))], resume: new ResumeOptions { Finish = false }));
        Assert.Equal(EspErrorCode.UnalignedAddress, ex.Code);
        Assert.Equal(1, connects);
    }

    // Ctrl+C while a session fails must stop there: a resume would carry on the work the user just cancelled.
    [Fact]
    public async Task ACancelledRunDoesNotReconnect()
    {
        int connects = 0;
        using var cts = new CancellationTokenSource();
        await using var chip = new VirtualChip(new VirtualChipOptions { Chip = "esp32" });
        await using var t = SimulatorPort.Connect(chip);
        var ex = await Assert.ThrowsAsync<EspException>(() => ResumableRun.RunAsync<bool>(_ => { connects++; return EspSession.ConnectAsync(Options(t, "esp32")); },
            (_, _, _) =>
            {
                cts.Cancel();
                throw new EspException(EspErrorCode.Disconnected, "The link dropped just as the user pressed Ctrl+C.");
            }, new ResumeOptions { Finish = false }, cts.Token));
        Assert.Equal(EspErrorCode.Disconnected, ex.Code);
        Assert.Equal(1, connects);
    }

    private static ConnectOptions Options(Esp.Protocol.Transport.IEspTransport t, string chip = "esp32c3") => new()
    {
        Port = "sim", Transport = t, Chip = chip, Baud = 115200, After = "no-reset",
        Timeouts = EspTimeouts.Default,
    };
}
