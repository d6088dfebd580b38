using Esp.Protocol.Errors;
using Esp.Protocol.Loader.Reset;

namespace Esp.Protocol.Tests.Reset;

public class ResetStrategiesForTests
{
    private static string Names(IReadOnlyList<ResetStrategy> list) =>
        string.Join(" ", list.Select(s => s switch
        {
            UnixTightReset u => $"UnixTight:{u.ResetDelay.TotalSeconds}",
            ClassicReset c => $"Classic:{c.ResetDelay.TotalSeconds}",
            _ => s.GetType().Name,
        }));

    [Theory]
    [InlineData("default-reset")]
    [InlineData("default_reset")]
    [InlineData("DEFAULT_RESET")]
    public void PosixSerialGetsTightThenClassic(string before) =>
        Assert.Equal("UnixTight:0.05 UnixTight:0.55 Classic:0.05 Classic:0.55",
            Names(ResetStrategies.For(before, new RecordingTransport(), null, windows: false)));

    [Fact]
    public void WindowsGetsClassicOnly() =>
        Assert.Equal("Classic:0.05 Classic:0.55", Names(ResetStrategies.For("default-reset", new RecordingTransport("COM3"), null, windows: true)));

    [Fact]
    public void Rfc2217GetsClassicOnlyEvenOnPosix() =>
        Assert.Equal("Classic:0.05 Classic:0.55",
            Names(ResetStrategies.For("default-reset", new RecordingTransport("rfc2217://host:4000"), null, windows: false)));

    [Fact]
    public void UsbJtagSerialPortGetsOnlyTheUsbSequence() =>
        Assert.Equal("UsbJtagSerialReset",
            Names(ResetStrategies.For("default-reset", new RecordingTransport(usbId: (0x303A, 0x1001)), null, windows: false)));

    [Fact]
    public void UsbResetModeGetsOnlyTheUsbSequence() =>
        Assert.Equal("UsbJtagSerialReset", Names(ResetStrategies.For("usb_reset", new RecordingTransport(), null, windows: false)));

    [Theory]
    [InlineData("no-reset")]
    [InlineData("no_reset")]
    [InlineData("no-reset-no-sync")]
    [InlineData("no_reset_no_sync")]
    public void NoResetModes(string before) =>
        Assert.Equal("NoReset", Names(ResetStrategies.For(before, new RecordingTransport(), "D0|R1", windows: false)));

    [Fact]
    public void SocketGetsNoReset() =>
        Assert.Equal("NoReset", Names(ResetStrategies.For("default-reset", new RecordingTransport("socket://localhost:5555", lineControl: false), null)));

    [Fact]
    public void CustomSequenceReplacesTheList()
    {
        var list = ResetStrategies.For("default-reset", new RecordingTransport(usbId: (0x303A, 0x1001)), "D0|R1|W0.1|D1|R0|W0.05|D0");
        var custom = Assert.IsType<CustomResetSequence>(Assert.Single(list));
        Assert.Equal(7, custom.Steps.Count);
    }

    [Fact]
    public void ResetDelayOverridesBothDelays() =>
        Assert.Equal("UnixTight:0.2 UnixTight:0.2 Classic:0.2 Classic:0.2",
            Names(ResetStrategies.For("default-reset", new RecordingTransport(), null, TimeSpan.FromSeconds(0.2), windows: false)));

    [Fact]
    public void Cp2102cGetsFlowControlVariants()
    {
        var list = ResetStrategies.For("default-reset", new RecordingTransport(usbId: (0x10C4, 0xEA64)), null, windows: false);
        Assert.All(list.OfType<UnixTightReset>(), u => Assert.True(u.FlowControl));
        Assert.All(list.OfType<ClassicReset>(), c => Assert.True(c.FlowControl));
        var cp2102n = ResetStrategies.For("default-reset", new RecordingTransport(usbId: (0x10C4, 0xEA60)), null, windows: false);
        Assert.All(cp2102n.OfType<ClassicReset>(), c => Assert.False(c.FlowControl));
    }

    [Fact]
    public void UnknownModeIsRejected()
    {
        var ex = Assert.Throws<EspException>(() => ResetStrategies.For("soft-reset", new RecordingTransport(), null));
        Assert.Equal(EspErrorCode.InvalidArgument, ex.Code);
        Assert.Contains("soft-reset", ex.Message);
        Assert.Contains("no-reset", ex.Help);
    }

    [Fact]
    public async Task HardResetForUsesCustomSequenceWhenGiven()
    {
        var t = new RecordingTransport();
        var s = ResetStrategies.HardResetFor(t, usesUsb: false, "R1|W0.2|R0");
        s.Delay = t.RecordDelay;
        await s.RunAsync(t);
        Assert.Equal("R1|D0|W0.2|R0|D0", t.Sequence);
        Assert.IsType<HardReset>(ResetStrategies.HardResetFor(t, usesUsb: true));
    }
}
