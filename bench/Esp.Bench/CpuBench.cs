using System.Diagnostics;
using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using Esp.Protocol.Chips;
using Esp.Protocol.Framing;
using Esp.Protocol.Loader;
using Esp.Protocol.Operations;

namespace Esp.Bench;

/// <summary>CPU-bound parts: SLIP, compression and framing, allocations of a streamed write.</summary>
public static class CpuWork
{
    public static (EspSession Session, SinkTransport Sink) SinkSession()
    {
        var sink = new SinkTransport();
        var session = EspSession.Attach(sink, ChipDatabase.Get("esp32c3"), stub: true, flashAttached: true);
        return (session, sink);
    }

    /// <summary>FlashWriter.WriteAsync against the sink (no link time): compression, framing, SLIP, MD5.</summary>
    public static FlashWriteResult WriteToSink(EspSession session, SinkTransport sink, byte[] data, bool? compress = null)
    {
        sink.Md5 = MD5.HashData(data); // callers pass word-aligned data
        return FlashWriter.WriteAsync(session, 0, data, Settings.Write with { Compress = compress }).GetAwaiter().GetResult();
    }

    public static int SlipRoundTrip(byte[] payload, byte[] encoded, SlipDecoder decoder)
    {
        int n = Slip.Encode(payload, encoded);
        int frames = 0;
        foreach (var b in encoded.AsSpan(0, n))
            if (decoder.Push(b) == SlipEvent.Frame) frames++;
        return frames;
    }
}

/// <summary>Quick timed loops (default for --cpu and part of the default run).</summary>
public static class QuickCpu
{
    public static void Run(Table table)
    {
        Console.Error.WriteLine("[cpu] quick timed loops...");
        // SLIP encode + decode of 64 KiB random frames (about 0.8 % of bytes are escaped)
        var payload = Data.Random(64 * 1024, 3);
        var encoded = new byte[Slip.MaxEncodedLength(payload.Length)];
        var decoder = new SlipDecoder(payload.Length + 16);
        for (int i = 0; i < 50; i++) CpuWork.SlipRoundTrip(payload, encoded, decoder);
        var sw = Stopwatch.StartNew();
        int iters = 0;
        while (sw.ElapsedMilliseconds < 1500) { CpuWork.SlipRoundTrip(payload, encoded, decoder); iters++; }
        double mbps = (double)payload.Length * iters / sw.Elapsed.TotalSeconds / 1e6;
        table.Add("6. SLIP encode + decode", "payload MB/s through Slip.Encode then SlipDecoder.Push (one thread)", $"{mbps:0} MB/s",
            "≥ 200 MB/s", mbps >= 200, "CPU");

        // Compress + frame 4 MiB: the whole FlashWriter path against a sink link
        var (session, sink) = CpuWork.SinkSession();
        var fw = Data.FirmwareLike(4 * 1024 * 1024, 2);
        CpuWork.WriteToSink(session, sink, fw); // warm-up
        var times = new List<double>();
        FlashWriteResult? last = null;
        for (int i = 0; i < 5; i++)
        {
            sw.Restart();
            last = CpuWork.WriteToSink(session, sink, fw);
            times.Add(sw.Elapsed.TotalMilliseconds);
        }
        times.Sort();
        double median = times[times.Count / 2];
        table.Add("6. compress + frame 4 MiB firmware-like", "FlashWriter.WriteAsync to an instant link, median of 5 (deflate, *_DATA packets, SLIP, MD5)",
            $"{median:0} ms ({last!.WireBytes * 100.0 / fw.Length:0} % of the image on the wire)", "< 150 ms", median < 150, "CPU");

        // Allocations of a streamed 16 MiB write
        foreach (var (name, img) in new[] { ("random", Data.Random(16 * 1024 * 1024, 8)), ("firmware-like", Data.FirmwareLike(16 * 1024 * 1024, 9)) })
        {
            var small = img.AsSpan(0, 1024 * 1024).ToArray();
            CpuWork.WriteToSink(session, sink, small);
            long a0 = GC.GetTotalAllocatedBytes(true);
            CpuWork.WriteToSink(session, sink, small);
            long a1 = GC.GetTotalAllocatedBytes(true);
            long m0 = GC.GetTotalAllocatedBytes(true);
            var r = CpuWork.WriteToSink(session, sink, img);
            long m1 = GC.GetTotalAllocatedBytes(true);
            long big = m1 - m0, one = a1 - a0;
            int block = session.Loader.FlashBlockSize;
            table.Add($"6. allocations, FlashWriter.WriteAsync 16 MiB {name}", "GC.GetTotalAllocatedBytes delta (1 MiB write for comparison)",
                $"{big / 1024.0:0.0} KiB for 16 MiB ({big * 100.0 / img.Length:0.00} % of the image), {one / 1024.0:0.0} KiB for 1 MiB; {(r.Compressed ? "compressed" : "plain")}",
                $"< 2 × block ({2 * block / 1024} KiB) + per-packet bookkeeping; not ∝ image", big < img.Length / 16, "CPU");
        }
    }
}

/// <summary>BenchmarkDotNet suite (--cpu --bdn).</summary>
[MemoryDiagnoser]
public class CpuBenchmarks
{
    private byte[] _payload = [], _encoded = [], _firmware = [], _image16 = [];
    private SlipDecoder _decoder = new();
    private EspSession _session = null!;
    private SinkTransport _sink = null!;

    [GlobalSetup]
    public void Setup()
    {
        _payload = Data.Random(64 * 1024, 3);
        _encoded = new byte[Slip.MaxEncodedLength(_payload.Length)];
        _decoder = new SlipDecoder(_payload.Length + 16);
        _firmware = Data.FirmwareLike(4 * 1024 * 1024, 2);
        _image16 = Data.Random(16 * 1024 * 1024, 8);
        (_session, _sink) = CpuWork.SinkSession();
    }

    [Benchmark(Description = "SLIP encode+decode 64 KiB")]
    public int SlipRoundTrip() => CpuWork.SlipRoundTrip(_payload, _encoded, _decoder);

    [Benchmark(Description = "SLIP encode 64 KiB")]
    public int SlipEncode() => Slip.Encode(_payload, _encoded);

    [Benchmark(Description = "Compress+frame 4 MiB firmware-like (FlashWriter to sink)")]
    public long CompressAndFrame() => CpuWork.WriteToSink(_session, _sink, _firmware).WireBytes;

    [Benchmark(Description = "FlashWriter 16 MiB random to sink (allocations)")]
    public long Write16MiB() => CpuWork.WriteToSink(_session, _sink, _image16).WireBytes;
}
