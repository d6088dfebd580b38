using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using Esp.Bench;

// Esp.Bench: performance figures, each next to the method it beats, in one run (docs/performance.md).
//   dotnet run -c Release --project bench/Esp.Bench                 link-model harness + quick CPU loops
//   dotnet run -c Release --project bench/Esp.Bench -- --cpu        quick CPU loops only
//   dotnet run -c Release --project bench/Esp.Bench -- --cpu --bdn  BenchmarkDotNet suite (ShortRun)
//   --quick   smaller images (256 KiB, 16 KiB dump) for a fast smoke run;  --chip KEY  (default esp32c3)
//   --zlevel N  use zlib level N for compressed writes
//   --zprobe  zlib size and time of 4 MiB firmware-like data at each zlib level (as FlashWriter compresses)
//   --qemu [--esptool "COMMAND"] [--reps N]   dotnet esp and esptool side by side on QEMU's real ROMs and stub
//   --farm [--boards 1,4,8,16,32] [--baud N]  one deploy to many virtual boards at once, next to one board
bool cpu = args.Contains("--cpu"), bdn = args.Contains("--bdn"), quick = args.Contains("--quick");
int ci = Array.IndexOf(args, "--chip");
string chip = ci >= 0 && ci + 1 < args.Length ? args[ci + 1] : "esp32c3";
int zi = Array.IndexOf(args, "--zlevel"); // try another zlib level for compressed writes
if (zi >= 0 && zi + 1 < args.Length) Settings.ZLibLevel = int.Parse(args[zi + 1]);

if (args.Contains("--zprobe"))
{
    var fwp = Data.FirmwareLike(4 * 1024 * 1024, 2);
    // FlashWriter.Deflate is what a compressed write sends: 256 KiB chunks compressed on all cores (pigz style).
    foreach (var level in new[] { 1, 2, 3, 4, 5, 6, 7, 9 })
    {
        Esp.Protocol.Operations.FlashWriter.Deflate(fwp, level);
        var times = new List<double>();
        int len = 0;
        for (int i = 0; i < 5; i++)
        {
            var t = System.Diagnostics.Stopwatch.StartNew();
            len = Esp.Protocol.Operations.FlashWriter.Deflate(fwp, level).Length;
            times.Add(t.Elapsed.TotalMilliseconds);
        }
        times.Sort();
        Console.WriteLine($"level {level}: {len * 100.0 / fwp.Length:0.00} % in {times[2]:0} ms (median of 5, {Environment.ProcessorCount} cores)");
    }
    return 0;
}
if (args.Contains("--qemu"))
{
    int ei = Array.IndexOf(args, "--esptool"), ri = Array.IndexOf(args, "--reps");
    var qtable = new Table();
    await new QemuBench(qtable, ei >= 0 ? args[ei + 1] : null, ri >= 0 ? int.Parse(args[ri + 1]) : 3).RunAsync();
    Console.WriteLine();
    Console.WriteLine($"Esp.Bench --qemu — {Environment.ProcessorCount} cores, {CpuModel()}, .NET {Environment.Version}");
    Console.WriteLine();
    qtable.Print(Console.Out);
    return qtable.Rows.Any(r => r.Met == false) ? 1 : 0;
}
if (args.Contains("--farm"))
{
    int bi = Array.IndexOf(args, "--boards"), di = Array.IndexOf(args, "--baud");
    var counts = bi >= 0 ? args[bi + 1].Split(',').Select(int.Parse).ToList() : [1, 4, 8, 16, 32];
    var ftable = new Table();
    await new FarmBench(ftable, counts, di >= 0 ? int.Parse(args[di + 1]) : 921600).RunAsync();
    Console.WriteLine();
    Console.WriteLine($"Esp.Bench --farm — {Environment.ProcessorCount} cores, {CpuModel()}, .NET {Environment.Version}");
    Console.WriteLine();
    ftable.Print(Console.Out);
    return ftable.Rows.Any(r => r.Met == false) ? 1 : 0;
}
if (cpu && bdn)
{
    var config = DefaultConfig.Instance.AddJob(Job.ShortRun.WithId("short"));
    BenchmarkRunner.Run<CpuBenchmarks>(config);
    return 0;
}

var table = new Table();
var started = DateTime.UtcNow;
if (!cpu)
    await new LinkBench(table, chip, quick).RunAsync();
QuickCpu.Run(table);

Console.WriteLine();
Console.WriteLine($"Esp.Bench — {chip} virtual chip, {Environment.ProcessorCount} cores, {CpuModel()}, .NET {Environment.Version}, {(quick ? "quick sizes" : "full sizes")}, {(DateTime.UtcNow - started).TotalSeconds:0} s");
Console.WriteLine();
table.Print(Console.Out);
return table.Rows.Any(r => r.Met == false) ? 1 : 0;

static string CpuModel()
{
    try
    {
        var line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
        return line is null ? "unknown CPU" : line[(line.IndexOf(':') + 1)..].Trim();
    }
    catch (IOException) { return "unknown CPU"; }
}
