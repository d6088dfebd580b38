using Esp.Protocol.Errors;
using Esp.Protocol.Transport;

namespace Esp.Protocol.Tests.Transport;

/// <summary>SerialTransport against a pseudo-terminal (Linux/macOS only; skipped in effect on Windows).</summary>
public class SerialTransportTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(10);

    private static Task<byte[]> ReadExactlyAsync(IEspTransport t, int count) => TransportReads.ReadExactlyAsync(t, count, Limit);

    [Fact]
    public async Task PtyMovesAll256ByteValuesBothWays()
    {
        if (OperatingSystem.IsWindows()) return;
        using var pty = new Pty();
        await using var port = await TransportFactory.OpenAsync(pty.SlavePath, new TransportOptions { BaudRate = 115200 });
        var all = Enumerable.Range(0, 256).Select(i => (byte)i).ToArray();

        await port.WriteAsync(all);
        Assert.Equal(all, await pty.ReadMasterAsync(256));

        await pty.Master.WriteAsync(all);
        await pty.Master.FlushAsync();
        Assert.Equal(all, await ReadExactlyAsync(port, 256));
    }

    [Fact]
    public async Task PtyRefusesLineControlCleanlyAndStaysUsable()
    {
        if (OperatingSystem.IsWindows()) return;
        using var pty = new Pty();
        await using var port = SerialTransport.Open(pty.SlavePath, new TransportOptions());
        Assert.True(port.UsesPortDescriptor);
        Assert.False(port.SupportsLineControl);

        var ex = await Assert.ThrowsAsync<EspException>(() => port.SetLinesAsync(true, false));
        Assert.Equal(EspErrorCode.LineControlUnsupported, ex.Code);
        Assert.Contains(pty.SlavePath, ex.Message);
        Assert.Contains("no-reset", ex.Help);
        Assert.False(port.SupportsLineControl);

        await port.SetBaudRateAsync(460800);
        Assert.Equal(460800, port.BaudRate);
        await port.WriteAsync(new byte[] { 0xC0, 0xDB, 0xFF });
        Assert.Equal(new byte[] { 0xC0, 0xDB, 0xFF }, await pty.ReadMasterAsync(3));
        await pty.Master.WriteAsync(new byte[] { 0x42 });
        Assert.Equal(new byte[] { 0x42 }, await ReadExactlyAsync(port, 1));
    }

    [Fact]
    public async Task SecondOpenOfAHeldPortIsPortBusy()
    {
        if (OperatingSystem.IsWindows()) return;
        using var pty = new Pty();
        await using var first = SerialTransport.Open(pty.SlavePath, new TransportOptions());
        var ex = Assert.Throws<EspException>(() => SerialTransport.Open(pty.SlavePath, new TransportOptions()));
        Assert.Equal(EspErrorCode.PortBusy, ex.Code);
        Assert.Contains(pty.SlavePath, ex.Message);

        // The first holder is unaffected.
        await first.WriteAsync(new byte[] { 1, 2, 3 });
        Assert.Equal(new byte[] { 1, 2, 3 }, await pty.ReadMasterAsync(3));
    }

    [Fact]
    public async Task PortCanBeReopenedAfterDispose()
    {
        if (OperatingSystem.IsWindows()) return;
        using var pty = new Pty();
        var first = SerialTransport.Open(pty.SlavePath, new TransportOptions());
        await first.DisposeAsync();
        await using var second = SerialTransport.Open(pty.SlavePath, new TransportOptions());
        await second.WriteAsync(new byte[] { 7 });
        Assert.Equal(new byte[] { 7 }, await pty.ReadMasterAsync(1));
    }

    [Fact]
    public async Task CancelledReadReturnsWithoutData()
    {
        if (OperatingSystem.IsWindows()) return;
        using var pty = new Pty();
        await using var port = SerialTransport.Open(pty.SlavePath, new TransportOptions());
        using var cts = new CancellationTokenSource();
        var read = port.ReadAsync(new byte[16], cts.Token);
        await Task.Yield();
        cts.Cancel();
        // WaitAsync only guards the test run against a hang; the assertion is about the cancellation.
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => read.WaitAsync(Limit));

        // The port still works afterwards.
        await pty.Master.WriteAsync(new byte[] { 9 });
        Assert.Equal(new byte[] { 9 }, await ReadExactlyAsync(port, 1));
    }

    [Fact]
    public async Task DiscardInputDropsPendingBytes()
    {
        if (OperatingSystem.IsWindows()) return;
        using var pty = new Pty();
        await using var port = SerialTransport.Open(pty.SlavePath, new TransportOptions());
        await pty.Master.WriteAsync(new byte[] { 1, 2, 3 });
        await Task.Delay(200); // let the pty move the bytes into the port's input queue
        port.DiscardInput();
        await pty.Master.WriteAsync(new byte[] { 4 });
        Assert.Equal(new byte[] { 4 }, await ReadExactlyAsync(port, 1));
    }

    [Fact]
    public void MissingPortIsPortNotFoundNamingIt()
    {
        var name = OperatingSystem.IsWindows() ? "COM251" : "/dev/ttyESPBUILD_DOES_NOT_EXIST";
        var ex = Assert.Throws<EspException>(() => SerialTransport.Open(name, new TransportOptions()));
        Assert.Equal(EspErrorCode.PortNotFound, ex.Code);
        Assert.Contains(name, ex.Message);
    }

    [Fact]
    public async Task FactoryMapsMissingDevicePathToPortNotFound()
    {
        if (OperatingSystem.IsWindows()) return;
        var ex = await Assert.ThrowsAsync<EspException>(() => TransportFactory.OpenAsync("/dev/ttyUSB_espbuild_missing"));
        Assert.Equal(EspErrorCode.PortNotFound, ex.Code);
    }
}
