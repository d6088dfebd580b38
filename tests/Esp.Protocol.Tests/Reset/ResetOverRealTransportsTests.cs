using Esp.Protocol.Chips;
using Esp.Protocol.Errors;
using Esp.Protocol.Loader;
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

    [Fact]
    public async Task ConnectWithResetThroughAServerThatLeavesSetControlUnansweredIsLineControlUnsupported()
    {
        await using var server = new MiniRfc2217Server();
        await using var t = await TransportFactory.OpenAsync($"rfc2217://127.0.0.1:{server.Port}?timeout=0.3");
        server.AnswerSetControl = false;
        var ex = await Assert.ThrowsAsync<EspException>(() => EspSession.ConnectAsync(new ConnectOptions
        {
            Port = t.Name, Transport = t, Chip = "esp32", Before = "default-reset", ConnectAttempts = 1,
        }).WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(EspErrorCode.LineControlUnsupported, ex.Code);
        Assert.Contains("no-reset", ex.Help);
    }

    [Fact]
    public async Task HardResetAfterTheWorkThroughAServerThatCannotDriveTheLinesOnlyLogs()
    {
        // Connected with --before no-reset, the first DTR/RTS change is the reset after the work: the work is done,
        // so the session ends normally and says to reset by hand.
        await using var server = new MiniRfc2217Server();
        await using var t = await TransportFactory.OpenAsync($"rfc2217://127.0.0.1:{server.Port}?timeout=0.3");
        server.AnswerSetControl = false;
        var log = new List<string>();
        await using var session = EspSession.Attach(t, ChipDatabase.Esp32, stub: true,
            new ConnectOptions { Port = t.Name, After = "hard-reset", Log = log.Add });
        await session.FinishAsync().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Contains(log, l => l.Contains("reset the chip by hand", StringComparison.Ordinal));
        Assert.True(await server.SetControlSeen.WaitAsync(TimeSpan.FromSeconds(10)));
    }
}
