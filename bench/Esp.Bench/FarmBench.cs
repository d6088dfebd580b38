using System.Collections.Concurrent;
using System.Diagnostics;
using Esp.Protocol.Errors;
using Esp.Protocol.Farm;
using Esp.Protocol.Loader;
using Esp.Protocol.Operations;
using Esp.Protocol.Transport;
using Esp.Simulator;
using Esp.Simulator.Link;

namespace Esp.Bench;

/// <summary>
/// One 1 MiB deploy to 1, 4, 8, 16 and 32 boards at once (virtual chips on baud-throttled links, in-process and
/// behind TCP and RFC 2217 servers), next to the same deploy to one board: wall time, host CPU per board and the
/// host's memory per extra board.
/// </summary>
public sealed class FarmBench(Table table, IReadOnlyList<int> counts, int baud)
{
    private const string Scheme = "benchfarm";
    private static readonly ConcurrentDictionary<string, VirtualChip> Chips = new();
    private readonly byte[] _image = Data.FirmwareLike(1024 * 1024, 7);

    public async Task RunAsync()
    {
        TransportFactory.Register(Scheme, (name, o, _) => Chips.TryGetValue(name, out var chip)
            ? Task.FromResult(SimulatorPort.Connect(chip, name, o.BaudRate))
            : throw new EspException(EspErrorCode.PortNotFound, $"No board on {name}."));
        await MeasureAsync(1, "in-process", memory: false); // warm-up: JIT, the stub image, thread pool
        var single = await MeasureBothAsync(1, "in-process");
        Report(single, single);
        foreach (int n in counts.Where(c => c > 1))
            Report(single, await MeasureBothAsync(n, "in-process"));
        foreach (var host in new[] { "socket", "rfc2217" })
            Report(single, await MeasureBothAsync(Math.Min(8, counts.Max()), host));
    }

    /// <summary>
    /// Time and CPU from a run left alone; memory from a second run that samples the live heap after full
    /// collections (what stays allocated, not garbage waiting for the collector), which slows that run down.
    /// </summary>
    private async Task<Run> MeasureBothAsync(int n, string host)
    {
        var timed = await MeasureAsync(n, host, memory: false);
        var sampled = await MeasureAsync(n, host, memory: true);
        return timed with { BaseBytes = sampled.BaseBytes, PeakBytes = sampled.PeakBytes, AllVerified = timed.AllVerified && sampled.AllVerified };
    }

    private sealed record Run(int Boards, string Host, TimeSpan Wall, TimeSpan Cpu, long BaseBytes, long PeakBytes, bool AllVerified, int Compressions);

    private void Report(Run single, Run r)
    {
        double ratio = r.Wall / single.Wall;
        double limit = r.Boards <= 8 ? 1.25 : 2.0;
        double perBoardMiB = r.Boards == 1 ? 0 : (r.PeakBytes - r.BaseBytes - (single.PeakBytes - single.BaseBytes)) / (r.Boards - 1.0) / (1024 * 1024);
        bool met = r.AllVerified && (r.Boards == 1 || (ratio <= limit && perBoardMiB < 2));
        table.Add($"deploy 1 MiB firmware-like to {r.Boards} board(s), {r.Host}", "wall time ÷ one board's; host CPU per board; live heap per extra board (peak after full GCs)",
            $"{r.Wall.TotalSeconds:0.00} s = {ratio:0.00} × one board (one board after another: {single.Wall.TotalSeconds * r.Boards:0.0} s); CPU {r.Cpu.TotalMilliseconds / r.Boards:0} ms per board; " +
            $"{(r.PeakBytes - r.BaseBytes) / 1024.0:0} KiB live at the peak, {perBoardMiB * 1024:0} KiB per extra board; compressed {r.Compressions}×; verified: {r.AllVerified}",
            r.Boards == 1 ? "reference" : $"≤ {limit} ×, < 2 MiB per board", r.Boards == 1 ? null : met,
            $"{baud} Bd, throttle on, esp32c3 stub");
    }

    private async Task<Run> MeasureAsync(int n, string host, bool memory)
    {
        Console.Error.WriteLine($"[farm] {n} board(s), {host}{(memory ? ", memory" : "")}...");
        var chips = Enumerable.Range(0, n).Select(_ => new VirtualChip(new VirtualChipOptions
        {
            Chip = "esp32c3",
            FlashSize = 2 * 1024 * 1024,
            Link = new LinkOptions { BaudThrottle = true },
        })).ToList();
        var servers = new List<IDisposable>();
        var boards = new List<Board>();
        for (int i = 0; i < n; i++)
        {
            switch (host)
            {
                case "socket":
                    var tcp = new TcpSerialServer(chips[i]);
                    servers.Add(tcp);
                    boards.Add(new Board($"socket://127.0.0.1:{tcp.Port}"));
                    break;
                case "rfc2217":
                    var rfc = new Rfc2217Server(chips[i]);
                    servers.Add(rfc);
                    boards.Add(new Board($"rfc2217://127.0.0.1:{rfc.Port}"));
                    break;
                default:
                    var port = $"{Scheme}:{Guid.NewGuid():N}";
                    Chips[port] = chips[i];
                    boards.Add(new Board(port));
                    break;
            }
        }
        try
        {
            // Buffers the last run returned to the shared array pool are released over a few collections: the
            // baseline is where the live heap settles with the boards created and nothing running.
            long baseBytes = long.MaxValue;
            for (int i = 0; i < 8; i++)
            {
                baseBytes = Math.Min(baseBytes, GC.GetTotalMemory(forceFullCollection: true));
                await Task.Delay(50);
            }
            long peak = baseBytes;
            using var sampling = new CancellationTokenSource();
            var sampler = Task.Run(async () =>
            {
                while (memory && !sampling.IsCancellationRequested)
                {
                    peak = Math.Max(peak, GC.GetTotalMemory(forceFullCollection: true));
                    try { await Task.Delay(100, sampling.Token); } catch (OperationCanceledException) { }
                }
            });
            var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
            var sw = Stopwatch.StartNew();
            using var cache = new CompressionCache();
            var results = await FarmDeployer.DeployAsync(boards, _ => new ConnectOptions { Baud = baud, Before = "no-reset", After = "no-reset" },
                [new DeployImage("app", 0x10000, _image)], new DeployOptions { SharedCompression = cache });
            var wall = sw.Elapsed;
            var cpu = Process.GetCurrentProcess().TotalProcessorTime - cpu0;
            await sampling.CancelAsync();
            await sampler;
            bool verified = results.All(r => r.Succeeded && r.Value!.Images[0].Verified)
                && chips.All(c => c.Flash.Read(0x10000, _image.Length).AsSpan().SequenceEqual(_image));
            foreach (var r in results.Where(r => !r.Succeeded)) Console.Error.WriteLine($"  {r.Board.Name}: {r.Error?.CodeText} {r.Error?.Message}");
            if (memory) Console.Error.WriteLine($"  live heap: {baseBytes / 1024} KiB before, {peak / 1024} KiB at the peak");
            return new Run(n, host, wall, cpu, baseBytes, peak, verified, cache.Builds);
        }
        finally
        {
            foreach (var s in servers) s.Dispose();
            foreach (var b in boards) Chips.TryRemove(b.Port, out _);
            foreach (var c in chips) await c.DisposeAsync();
        }
    }
}
