using System.Text.Json;
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
            var m = Regex.Match(server.LiveStdout, Regex.Escape(prefix) + (prefix.Contains("://", StringComparison.Ordinal) ? @"\d+" : ""));
            if (m.Success) return m.Value;
            if (run.IsCompleted) throw new InvalidOperationException((await run).ToString());
            await Task.Delay(100);
        }
        throw new TimeoutException("simulate did not announce its port: " + server.LiveStdout);
    }

    [Fact]
    public async Task SimulateServesTcpAndRfc2217AtOnceWithTheGivenSettings()
    {
        await using var sim = await Simulation.StartAsync("simulate", "--chip", "esp32c3", "--tcp", "0", "--rfc2217", "0", "--flash", "8MB",
            "--set", "revision=4", "--set", "mac=58:cf:79:0a:0b:0c");
        var tcp = await sim.EndpointAsync("socket://127.0.0.1:");
        var rfc = await sim.EndpointAsync("rfc2217://127.0.0.1:");
        // One UART, one client at a time: TCP first and without a reset at the end (TCP cannot reset the chip back).
        var id = await _cli.RunAsync("--port", tcp, "--after", "no-reset", "chip_id");
        Assert.True(id.ExitCode == 0, id.ToString());
        Assert.Contains("ESP32-C3", id.Stdout);
        Assert.Contains("revision v0.4", id.Stdout);
        Assert.Contains("58:cf:79:0a:0b:0c", id.Stdout);
        var flash = await _cli.RunAsync("--port", rfc, "flash_id");
        Assert.True(flash.ExitCode == 0, flash.ToString());
        Assert.Contains("Detected flash size: 8MB", flash.Stdout);
        var r = await sim.StopAsync();
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("Virtual esp32c3 with 8 MiB flash (JEDEC c84017)", r.Stdout);
        Assert.Contains("Virtual chip stopped (in ", r.Stdout);
    }

    [Fact]
    public async Task SimulateStartsFromAUriAndReportsItsEndpointsAsJson()
    {
        await using var sim = await Simulation.StartAsync("--json", "simulate", "--uri", "sim:esp32s3?revision=1&flash=2MB", "--set", "revision=2", "--tcp", "0");
        var tcp = await sim.EndpointAsync("socket://127.0.0.1:");
        var l = JsonDocuments(sim.Server.LiveStdout)[0];
        Assert.Equal("listening", l.GetProperty("event").GetString());
        Assert.Equal("esp32s3", l.GetProperty("chip").GetString());
        Assert.Equal("tcp", l.GetProperty("endpoints")[0].GetProperty("kind").GetString());
        Assert.Equal(tcp, l.GetProperty("endpoints")[0].GetProperty("port").GetString());
        var id = await _cli.RunAsync("--port", tcp, "--after", "no-reset", "chip_id");
        Assert.True(id.ExitCode == 0, id.ToString());
        Assert.Contains("revision v0.2", id.Stdout); // --set wins over the URI
        var flash = await _cli.RunAsync("--port", tcp, "--after", "no-reset", "flash_id");
        Assert.True(flash.ExitCode == 0, flash.ToString());
        Assert.Contains("Detected flash size: 2MB", flash.Stdout);
        var r = await sim.StopAsync();
        Assert.True(r.ExitCode == 0, r.ToString());
        var docs = JsonDocuments(r.Stdout);
        Assert.Equal(2, docs.Count);
        var stopped = docs[1];
        Assert.True(stopped.GetProperty("ok").GetBoolean());
        Assert.Equal("stopped", stopped.GetProperty("event").GetString());
        Assert.True(stopped.GetProperty("statistics").GetProperty("frames").GetInt64() > 0);
    }

    [Fact]
    public async Task SimulateServesAPseudoTerminal()
    {
        if (!OperatingSystem.IsLinux()) return;
        await using var sim = await Simulation.StartAsync("simulate", "--pty", "chip.tty", "--chip", "esp32", "--state", "kept.bin");
        var path = sim.Server.PathOf("chip.tty"); // a relative path is the command's folder
        await sim.EndpointAsync(path);
        _cli.WriteFile("p.bin", TestImages.Bytes(3000, 13));
        var w = await _cli.RunAsync("--port", path, "--before", "no-reset", "--after", "no-reset", "--baud", "115200", "write_flash", "0x3000", "p.bin");
        Assert.True(w.ExitCode == 0, w.ToString());
        var r = await sim.StopAsync();
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("--before no-reset", r.Stdout);
        Assert.False(File.Exists(path), "the pty's symlink outlived the simulation");
        var state = File.ReadAllBytes(sim.Server.PathOf("kept.bin"));
        Assert.True(TestImages.Bytes(3000, 13).AsSpan().SequenceEqual(state.AsSpan(0x3000, 3000)), "state file lacks the write\n" + r + "\n" + w);
    }

    [Theory]
    [InlineData("different chips", "--chip", "esp32", "simulate", "--uri", "sim:esp32c3", "--tcp", "0")]
    [InlineData("Unknown simulator URI parameter 'flsh'", "simulate", "--set", "flsh=4MB", "--tcp", "0")]
    [InlineData("not a simulator URI", "simulate", "--uri", "socket://127.0.0.1:5555", "--tcp", "0")]
    [InlineData("power of two", "simulate", "--flash", "3MB", "--tcp", "0")]
    public async Task SimulateRejectsContradictoryOrUnknownSettings(string error, params string[] args)
    {
        var r = await _cli.RunAsync(args);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains(error, r.Stderr);
        Assert.DoesNotContain("(Parameter", r.Stderr);
    }

    /// <summary>The JSON documents printed one after another.</summary>
    private static List<JsonElement> JsonDocuments(string text)
    {
        var docs = new List<JsonElement>();
        var reader = new Utf8JsonReader(System.Text.Encoding.UTF8.GetBytes(text), new JsonReaderOptions { AllowMultipleValues = true });
        while (reader.Read())
        {
            using var doc = JsonDocument.ParseValue(ref reader);
            docs.Add(doc.RootElement.Clone());
        }
        return docs;
    }

    /// <summary>A running <c>dotnet esp simulate</c> in its own runner, stopped as by Ctrl+C.</summary>
    private sealed class Simulation : IAsyncDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private Task<CliRun> _run = null!;

        public CliRunner Server { get; private set; } = null!;

        public static async Task<Simulation> StartAsync(params string[] args)
        {
            var sim = new Simulation();
            var ready = new TaskCompletionSource();
            sim.Server = new CliRunner { OnReady = () => ready.TrySetResult() };
            sim._run = sim.Server.RunAsync(sim._stop.Token, args);
            await Task.WhenAny(ready.Task, sim._run).WaitAsync(TimeSpan.FromSeconds(30));
            if (sim._run.IsCompleted) throw new InvalidOperationException((await sim._run).ToString());
            sim._stop.CancelAfter(TimeSpan.FromSeconds(90)); // never hang the test run
            return sim;
        }

        public Task<string> EndpointAsync(string prefix) => FindEndpointAsync(Server, _run, prefix);

        public async Task<CliRun> StopAsync()
        {
            _stop.Cancel();
            return await _run;
        }

        public async ValueTask DisposeAsync()
        {
            _stop.Cancel();
            try { await _run; } catch (Exception e) when (e is OperationCanceledException or InvalidOperationException) { }
            Server.Dispose();
            _stop.Dispose();
        }
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
