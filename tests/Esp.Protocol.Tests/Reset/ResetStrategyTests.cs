using Esp.Protocol.Errors;
using Esp.Protocol.Loader.Reset;

namespace Esp.Protocol.Tests.Reset;

public class ResetStrategyTests
{
    private static async Task<string> Run(ResetStrategy s, RecordingTransport? t = null)
    {
        t ??= new RecordingTransport();
        s.Delay = t.RecordDelay;
        await s.RunAsync(t);
        return t.Sequence;
    }

    // Every RTS write is followed by re-writing DTR with its current value (Windows usbser.sys workaround).
    [Fact]
    public async Task ClassicSequence() =>
        Assert.Equal("D0|R1|D0|W0.1|D1|R0|D1|W0.05|D0", await Run(new ClassicReset(TimeSpan.FromSeconds(0.05))));

    [Fact]
    public async Task ClassicWithExtraDelay() =>
        Assert.Equal("D0|R1|D0|W0.1|D1|R0|D1|W0.55|D0", await Run(new ClassicReset(TimeSpan.FromSeconds(0.55))));

    [Fact]
    public async Task ClassicFlowControlSkipsFinalDtrRelease() =>
        Assert.Equal("D0|R1|D0|W0.1|D1|R0|D1|W0.05", await Run(new ClassicReset(TimeSpan.FromSeconds(0.05), flowControl: true)));

    [Fact]
    public async Task UnixTightSetsBothLinesAtOnce() =>
        Assert.Equal("U0,0|U1,1|U0,1|W0.1|U1,0|W0.05|U0,0|D0", await Run(new UnixTightReset(TimeSpan.FromSeconds(0.05))));

    [Fact]
    public async Task UnixTightExtraDelay() =>
        Assert.Equal("U0,0|U1,1|U0,1|W0.1|U1,0|W0.55|U0,0|D0", await Run(new UnixTightReset(TimeSpan.FromSeconds(0.55))));

    [Fact]
    public async Task UsbJtagSerialSequence()
    {
        // DTR starts asserted here to show that the re-write uses the port's current DTR value.
        var t = new RecordingTransport(usbId: (0x303A, 0x1001)) { Dtr = true };
        Assert.Equal("R0|D1|D0|W0.1|D1|R0|D1|W0.1|R1|D1|D0|R1|D0|W0.1|D0|R0|D0", await Run(new UsbJtagSerialReset(), t));
    }

    [Fact]
    public async Task HardResetSequence() =>
        Assert.Equal("R1|D0|W0.1|R0|D0", await Run(new HardReset()));

    [Fact]
    public async Task HardResetOverUsbWaitsLonger() =>
        Assert.Equal("R1|D0|W0.2|R0|D0|W0.2", await Run(new HardReset(usb: true)));

    [Fact]
    public async Task NoResetTouchesNothingEvenWithoutLineControl()
    {
        var t = new RecordingTransport(lineControl: false);
        Assert.Equal("", await Run(new NoReset(), t));
    }

    [Fact]
    public async Task WithoutLineControlTheResetFailsWithAClearError()
    {
        var t = new RecordingTransport(name: "/dev/pts/3", lineControl: false);
        foreach (var s in ResetStrategies.For("default-reset", t, null, windows: false))
        {
            s.Delay = t.RecordDelay;
            var ex = await Assert.ThrowsAsync<EspException>(() => s.RunAsync(t));
            Assert.Equal(EspErrorCode.LineControlUnsupported, ex.Code);
            Assert.Contains("/dev/pts/3", ex.Message);
            Assert.Contains("--before no-reset", ex.Help);
        }
        Assert.Empty(t.Log);
    }

    [Fact]
    public async Task CancellationStopsTheSequenceAtAWait()
    {
        var t = new RecordingTransport();
        using var cts = new CancellationTokenSource();
        var s = new ClassicReset();
        s.Delay = (time, ct) =>
        {
            cts.Cancel();
            return Task.Delay(time, ct);
        };
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => s.RunAsync(t, cts.Token));
        Assert.Equal("D0|R1|D0", t.Sequence);
    }

    [Fact]
    public async Task DefaultDelayFunctionReallyWaitsWithTheToken()
    {
        // The default Delay is Task.Delay: a cancelled token ends the wait.
        var s = new ClassicReset(TimeSpan.FromSeconds(30));
        using var cts = new CancellationTokenSource();
        var t = new RecordingTransport();
        var run = s.RunAsync(t, cts.Token);
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public void DescriptionsNameTheDelay()
    {
        Assert.Equal("UnixTight(0.55s)", new UnixTightReset(TimeSpan.FromSeconds(0.55)).Description);
        Assert.Equal("Classic(0.05s)", new ClassicReset().Description);
    }
}
