using Esp.Protocol.Errors;
using Esp.Protocol.Loader.Reset;
using Esp.Protocol.Tests.Transport;
using Esp.Protocol.Transport;

namespace Esp.Protocol.Tests.Reset;

/// <summary>Reset strategies driving the real transports (no hardware: an RFC 2217 test server and a pty).</summary>
public class ResetOverRealTransportsTests
{
    private static Task NoWait(TimeSpan t, CancellationToken ct) => Task.CompletedTask;

    [Fact]
    public async Task ClassicResetOverRfc2217SendsTheSetControlSequence()
    {
        await using var server = new MiniRfc2217Server();
        await using var t = await TransportFactory.OpenAsync($"rfc2217://127.0.0.1:{server.Port}");
        var list = ResetStrategies.For("default-reset", t, null, windows: false);
        Assert.All(list, s => Assert.IsType<ClassicReset>(s));
        server.Subnegotiations.Clear();

        var first = list[0];
        first.Delay = NoWait;
        await first.RunAsync(t);

        // D0 R1 (D0) W D1 R0 (D1) W D0 as RFC 2217 SET-CONTROL values.
        var controls = server.Subnegotiations.Where(s => s.Command == 5).Select(s => s.Value.Single()).ToArray();
        Assert.Equal(new byte[] { 9, 11, 9, 8, 12, 8, 9 }, controls);
    }

    [Fact]
    public async Task DefaultResetOnAPtyFailsWithLineControlUnsupportedAndThePortSurvives()
    {
        if (OperatingSystem.IsWindows()) return;
        using var pty = new Pty();
        await using var port = await TransportFactory.OpenAsync(pty.SlavePath);
        foreach (var s in ResetStrategies.For("default-reset", port, null))
        {
            s.Delay = NoWait;
            var ex = await Assert.ThrowsAsync<EspException>(() => s.RunAsync(port));
            Assert.Equal(EspErrorCode.LineControlUnsupported, ex.Code);
            Assert.Contains("--before no-reset", ex.Help);
        }
        await port.WriteAsync(new byte[] { 0x55 });
        Assert.Equal(new byte[] { 0x55 }, await pty.ReadMasterAsync(1));
    }
}
