using System.Text.RegularExpressions;

namespace Esp.Cli.Tests.Device;

public class SimulateAndCancelTests : IDisposable
{
    private readonly CliRunner _cli = new();
    public void Dispose() => _cli.Dispose();

    private sealed class LiveWriter : StringWriter
    {
        public override string ToString() { lock (this) return base.ToString(); }
    }

    [Theory]
    [InlineData("--tcp", "socket://127.0.0.1:")]
    [InlineData("--rfc2217", "rfc2217://127.0.0.1:")]
    public async Task SimulateServesAChipUntilCancelled(string option, string prefix)
    {
        var state = _cli.PathOf("served.bin");
        using var stop = new CancellationTokenSource();
        var ready = new TaskCompletionSource();
        var server = new CliRunner { OnReady = () => ready.TrySetResult() };
        try
        {
            var run = server.RunAsync(stop.Token, "--chip", "esp32c3", "simulate", option, "0", "--state", state);
            await ready.Task.WaitAsync(TimeSpan.FromSeconds(30));
            stop.CancelAfter(TimeSpan.FromSeconds(60)); // never hang the test run
            var endpoint = await FindEndpointAsync(server, run, prefix);
            _cli.WriteFile("d.bin", TestImages.Bytes(2000, 11));
            var w = await _cli.RunAsync("--port", endpoint, "write_flash", "0x2000", "d.bin");
            Assert.True(w.ExitCode == 0, w.ToString());
            Assert.Contains("ESP32-C3", w.Stdout);
            stop.Cancel();
            var r = await run;
            Assert.True(r.ExitCode == 0, r.ToString());
            Assert.Contains(prefix, r.Stdout);
            Assert.Contains("Press Ctrl+C to stop", r.Stdout);
            Assert.True(TestImages.Bytes(2000, 11).AsSpan().SequenceEqual(File.ReadAllBytes(state).AsSpan(0x2000, 2000)), "state file lacks the write\n" + r + "\n" + w);
        }
        finally
        {
            stop.Cancel();
            server.Dispose();
        }
    }

    private static async Task<string> FindEndpointAsync(CliRunner server, Task<CliRun> run, string prefix)
    {
        // RunAsync returns only at the end; the announcement is read from the runner's live stdout.
        for (int i = 0; i < 300; i++)
        {
            var m = Regex.Match(server.LiveStdout, Regex.Escape(prefix) + @"\d+");
            if (m.Success) return m.Value;
            if (run.IsCompleted) throw new InvalidOperationException((await run).ToString());
            await Task.Delay(100);
        }
        throw new TimeoutException("simulate did not announce its port: " + server.LiveStdout);
    }

    [Fact]
    public async Task SimulateWithoutHostIsUsageError()
    {
        var r = await _cli.RunAsync("simulate");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--tcp", r.Stderr);
    }

    [Fact]
    public async Task CtrlCDuringWriteReportsProgressAndExits130()
    {
        // A throttled link at 115200 baud: connecting and uploading the stub take about a second, writing 512 KiB of
        // random data about 46 s, so "Ctrl+C" after 5 s lands in the write even on a busy machine.
        var sim = new SimChip(_cli, "esp32", "&baud-throttle=true");
        _cli.WriteFile("big.bin", TestImages.Bytes(512 * 1024, 12));
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        var r = await _cli.RunAsync(cts.Token, "--port", sim.Port, "--baud", "115200", "--json", "write_flash", "0x0", "big.bin");
        Assert.Equal(130, r.ExitCode);
        Assert.StartsWith("cancelled: done: connected to ESP32", r.Stderr);
        Assert.Contains("write stopped at", r.Stderr);
        Assert.DoesNotContain("   at ", r.Stderr);
        var j = r.Json;
        Assert.True(j.GetProperty("cancelled").GetBoolean());
        Assert.Equal("write", j.GetProperty("progress").GetProperty("operation").GetString());
    }
}
