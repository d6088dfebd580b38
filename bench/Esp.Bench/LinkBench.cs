using System.Diagnostics;
using Esp.Protocol.Chips;
using Esp.Protocol.Loader;
using Esp.Protocol.Operations;
using Esp.Simulator;
using Esp.TestSupport;

namespace Esp.Bench;

/// <summary>Whole operations against the virtual chip with its link model (baud throttle, latency, flash timing).</summary>
public sealed class LinkBench(Table table, string chipKey, bool quick)
{
    public const int Baud = 921600;
    private static double WireLimit => Baud / 10.0; // payload bytes per second for 8N1
    private int Mib => quick ? 256 * 1024 : 1024 * 1024;
    private string SizeLabel => quick ? "256 KiB" : "1 MiB";

    private static string Pct(double x) => $"{x * 100:0.0} % of wire";
    private static string Link(LinkOptions l, bool timing = false) =>
        $"{Baud} Bd, throttle {(l.BaudThrottle ? "on" : "off")}, latency {l.HostToChipLatency.TotalMilliseconds:0.#}/{l.ChipToHostLatency.TotalMilliseconds:0.#} ms, rx {l.RxBufferSize} B, flash timing {(timing ? "on" : "off")}";

    public async Task RunAsync()
    {
        var fast = new LinkOptions { BaudThrottle = true };
        await StubFiguresAsync(fast);
        await LatencyWriteAsync();
        await RomFiguresAsync(fast);
        await DumpFiguresAsync();
    }

    // ------------------------------------------------------------------ stub: write, read, verify, deploy

    private async Task StubFiguresAsync(LinkOptions link)
    {
        Console.Error.WriteLine($"[stub] connecting ({chipKey}, {Link(link)})...");
        await using var rig = await ConnectAsync(stub: true, link);
        var s = rig.Session;
        string l = Link(link);

        // 1. incompressible write
        var random = Data.Random(Mib, 1);
        var w = await TimedWriteAsync(s, 0x100000, random);
        table.Add($"1. write_flash {SizeLabel} incompressible, default settings (stub)", "payload rate ÷ (baud/10)", $"{Pct(w.Rate / WireLimit)} (compressed: {(w.Result.Compressed ? "yes" : "no")}, {w.Seconds:0.00} s)",
            "≥ 97 %", w.Rate / WireLimit >= 0.97, l);
        Check(rig.Chip.Flash.Read(0x100000, random.Length), random, "write random");

        // 1b. a deploy of the same kind of image to blank flash: planning finds nothing, then writes it all
        var fresh = Data.Random(Mib, 9);
        var dsw = Stopwatch.StartNew();
        var deployed = await Deployer.DeployAsync(s, [new DeployImage("app", 0xC00000, fresh)]);
        double dr = Mib / dsw.Elapsed.TotalSeconds / WireLimit;
        table.Add($"1. deploy {SizeLabel} incompressible to blank flash, default settings (stub)", "payload rate ÷ (baud/10), planning included",
            $"{Pct(dr)} ({dsw.Elapsed.TotalSeconds:0.00} s, verified: {deployed.Images[0].Verified})", "≥ 97 %", dr >= 0.97 && deployed.Images[0].Verified, l);
        Check(rig.Chip.Flash.Read(0xC00000, fresh.Length), fresh, "deploy random");

        // 2. compressible write
        var fw = Data.FirmwareLike(Mib, 2);
        var c = await TimedWriteAsync(s, 0x200000, fw);
        double zr = (double)FlashWriter.Deflate(fw, Settings.ZLibLevel).Length / fw.Length;
        table.Add($"2. write_flash {SizeLabel} firmware-like, default settings (stub)", "payload rate ÷ (baud/10)",
            $"{c.Rate / WireLimit:0.00} × wire (zlib size {zr * 100:0} %, compressed: {(c.Result.Compressed ? "yes" : "no")}, {c.Seconds:0.00} s)",
            "≥ 1.5 ×", c.Rate / WireLimit >= 1.5, l);
        table.Add("2. compression chosen only when it shrinks", "auto decision", $"random → {(w.Result.Compressed ? "compressed" : "plain")}, firmware → {(c.Result.Compressed ? "compressed" : "plain")}",
            "random plain, firmware compressed", !w.Result.Compressed && c.Result.Compressed, l);
        Check(rig.Chip.Flash.Read(0x200000, fw.Length), fw, "write firmware");

        // 3. read_flash and verify --diff read-back
        var sw = Stopwatch.StartNew();
        var back = await FlashReader.ReadAsync(s, 0x100000, Mib);
        double rr = Mib / sw.Elapsed.TotalSeconds / WireLimit;
        Check(back, random, "read_flash");
        table.Add($"3. read_flash {SizeLabel}, default settings (stub)", "payload rate ÷ (baud/10)", $"{Pct(rr)} ({sw.Elapsed.TotalSeconds:0.00} s)", "≥ 95 %", rr >= 0.95, l);

        var changed = (byte[])random.Clone();
        for (int i = 0; i < 8; i++) changed[i * (Mib / 8) + 123] ^= 0x5A;
        sw.Restart();
        var v = await FlashVerifier.VerifyAsync(s, 0x100000, changed, diff: true);
        double vr = Mib / sw.Elapsed.TotalSeconds / WireLimit;
        if (v.Matched || v.Differences.Count != 8) throw new InvalidOperationException($"verify --diff found {v.Differences.Count} ranges, expected 8.");
        table.Add($"3. verify_flash --diff {SizeLabel} (MD5 + read-back), default settings (stub)", "payload rate ÷ (baud/10)", $"{Pct(vr)} ({sw.Elapsed.TotalSeconds:0.00} s, 8 ranges found)", "≥ 95 %", vr >= 0.95, l);

        // 5. deploy after a one-sector change vs full rewrite (esptool write_flash -z)
        var a = Data.FirmwareLike(Mib, 5);
        var b = (byte[])a.Clone();
        for (int i = 0; i < 64; i++) b[0x37000 % Mib + 100 + i] ^= 0xA5; // one sector differs
        const uint at = 0x400000;
        rig.Chip.Flash.Load(at, a);
        sw.Restart();
        var full = await FlashWriter.WriteAsync(s, at, b, Settings.Write);
        var tFull = sw.Elapsed;
        rig.Chip.Flash.Load(at, a);
        long sent0 = s.WireBytesSent + s.WireBytesReceived;
        sw.Restart();
        var dep = await Deployer.DeployAsync(s, [new DeployImage("app", at, b)]);
        var tDep = sw.Elapsed;
        Check(rig.Chip.Flash.Read(at, b.Length), b, "deploy");
        double ratio = tFull / tDep;
        table.Add($"5. deploy {SizeLabel} after a one-sector change vs full write", "full write time ÷ deploy time (same link, same run)",
            $"{ratio:0.0} × ({tFull.TotalSeconds:0.00} s vs {tDep.TotalSeconds:0.000} s; deploy wrote {dep.BytesWritten} B, {s.WireBytesSent + s.WireBytesReceived - sent0} B on the wire)",
            "≥ 10 ×", ratio >= 10, l);
        _ = full;

        var md5Before = rig.Chip.Statistics.Commands(0x13);
        long writesBefore = WriteCommands(rig.Chip);
        long wire0 = s.WireBytesSent + s.WireBytesReceived;
        var same = await Deployer.DeployAsync(s, [new DeployImage("app", at, b)]);
        long md5s = rig.Chip.Statistics.Commands(0x13) - md5Before, writes = WriteCommands(rig.Chip) - writesBefore;
        table.Add("5. deploy with nothing changed", "SPI_FLASH_MD5 and FLASH_* commands seen by the chip",
            $"{md5s} MD5 exchange(s), {writes} write commands, {s.WireBytesSent + s.WireBytesReceived - wire0} B on the wire ({same.Images[0].Action})",
            "1 MD5, no write", md5s == 1 && writes == 0, l);

        // 7. verify_flash 4 MiB, no difference
        var big = Data.FirmwareLike(4 * 1024 * 1024, 7);
        rig.Chip.Flash.Load(0x800000, big);
        long bw = s.WireBytesSent, br = s.WireBytesReceived;
        var ok = await FlashVerifier.VerifyAsync(s, 0x800000, big, diff: true);
        long wire = s.WireBytesSent - bw + s.WireBytesReceived - br;
        if (!ok.Matched) throw new InvalidOperationException("verify 4 MiB did not match.");
        table.Add("7. verify_flash --diff 4 MiB, no difference", "bytes on the wire (both directions)", $"{wire} B (a read-back would move ≥ {4 * 1024 * 1024:N0} B)",
            "< 1 KiB", wire < 1024, l);
    }

    /// <summary>
    /// The stub takes one block at a time (docs/fidelity.md), so each 16 KiB block pays a reply round trip: the figure
    /// with a USB bridge's 1 ms each way.
    /// </summary>
    private async Task LatencyWriteAsync()
    {
        var lat = TimeSpan.FromMilliseconds(1);
        var link = new LinkOptions { BaudThrottle = true, HostToChipLatency = lat, ChipToHostLatency = lat };
        await using var rig = await ConnectAsync(stub: true, link);
        var random = Data.Random(Mib, 10);
        var w = await TimedWriteAsync(rig.Session, 0x100000, random);
        Check(rig.Chip.Flash.Read(0x100000, random.Length), random, "write random with latency");
        table.Add($"1. write_flash {SizeLabel} incompressible, default settings (stub), 1 ms latency each way", "payload rate ÷ (baud/10)",
            $"{Pct(w.Rate / WireLimit)} ({w.Seconds:0.00} s; one 16 KiB block per round trip)", "≥ 97 %", w.Rate / WireLimit >= 0.97, Link(link));
    }

    private static long WriteCommands(VirtualChip chip) =>
        chip.Statistics.Commands(0x02) + chip.Statistics.Commands(0x03) + chip.Statistics.Commands(0x10) + chip.Statistics.Commands(0x11);

    // ------------------------------------------------------------------ ROM: write and read for reference

    private async Task RomFiguresAsync(LinkOptions link)
    {
        Console.Error.WriteLine("[rom] connecting...");
        await using var rig = await ConnectAsync(stub: false, link);
        var s = rig.Session;
        string l = Link(link);
        var random = Data.Random(Mib, 11);
        var w = await TimedWriteAsync(s, 0x100000, random);
        table.Add($"1. write_flash {SizeLabel} incompressible, --no-stub (ROM)", "payload rate ÷ (baud/10)",
            $"{Pct(w.Rate / WireLimit)} (1 KiB blocks, one round trip each, {w.Seconds:0.00} s)", "(printed only)", null, l);
        Check(rig.Chip.Flash.Read(0x100000, random.Length), random, "ROM write");

        var fw = Data.FirmwareLike(Mib, 12);
        var c = await TimedWriteAsync(s, 0x200000, fw);
        table.Add($"2. write_flash {SizeLabel} firmware-like, --no-stub (ROM)", "payload rate ÷ (baud/10)",
            $"{c.Rate / WireLimit:0.00} × wire (compressed: {(c.Result.Compressed ? "yes" : "no")}, {c.Seconds:0.00} s)", "(printed only)", null, l);

        int n = Mib / 4;
        var sw = Stopwatch.StartNew();
        var back = await FlashReader.ReadAsync(s, 0x100000, n);
        double rr = n / sw.Elapsed.TotalSeconds / WireLimit;
        Check(back, random.AsSpan(0, n).ToArray(), "ROM read");
        table.Add($"3. read_flash {n / 1024} KiB, --no-stub (ROM READ_FLASH_SLOW)", "payload rate ÷ (baud/10)",
            $"{Pct(rr)} (64 B per request, {s.Windows.ReadFlashSlow} in flight)", "(printed only)", null, l);
    }

    // ------------------------------------------------------------------ dump_mem

    private async Task DumpFiguresAsync()
    {
        var lat = TimeSpan.FromMilliseconds(1);
        var rom = new LinkOptions { BaudThrottle = true, HostToChipLatency = lat, ChipToHostLatency = lat, RxBufferSize = 128 };
        const uint ram = 0x3FCA0000;
        int size = quick ? 16 * 1024 : 64 * 1024;

        // Window sweep: the largest number of READ_REGs in flight that the 128-byte receive buffer takes.
        var sweep = new List<string>();
        int largestClean = 0;
        foreach (int window in new[] { 4, 8, 9, 10, 12, 16, 24, 32 })
        {
            await using var r = await ConnectAsync(stub: false, rom, timeouts: EspTimeouts.Default with { Command = TimeSpan.FromMilliseconds(500) },
                windows: new LoaderWindows(window, 1, 1));
            var expected = FillRam(r.Chip, ram, 16 * 1024, 99);
            string outcome;
            try
            {
                var got = await MemoryAccess.DumpAsync(r.Session, ram, expected.Length);
                outcome = got.AsSpan().SequenceEqual(expected) ? "ok" : "wrong bytes";
            }
            catch (Esp.Protocol.Errors.EspException ex)
            {
                outcome = "failed: " + ex.Code;
            }
            long overruns = r.Chip.Statistics.FaultCount(FaultKind.RxOverrun);
            sweep.Add($"{window}: {outcome}, {overruns} B overrun, max buffered {r.Chip.Statistics.MaxBytesBuffered} B");
            if (outcome == "ok" && overruns == 0 && window > largestClean) largestClean = window;
        }
        table.Add("4. READ_REG window sweep, ROM, 16 KiB each", "RxOverrun in SimStatistics per window", string.Join("; ", sweep),
            "largest clean window documented", null, Link(rom));

        await using var rig = await ConnectAsync(stub: false, rom);
        var data = FillRam(rig.Chip, ram, size, 4);
        var s = rig.Session;
        var (tEsptool, tOurs, same) = await CompareDumpAsync(s, ram, size, data);
        double ratio = tEsptool / tOurs;
        table.Add($"4. dump_mem {size / 1024} KiB, ROM, vs one READ_REG per round trip", "esptool-method time ÷ ours (same link, same run)",
            $"{ratio:0.0} × ({tEsptool.TotalSeconds:0.00} s vs {tOurs.TotalSeconds:0.00} s, window {s.Windows.ReadReg}, bytes identical: {(same ? "yes" : "NO")}, overrun {rig.Chip.Statistics.FaultCount(FaultKind.RxOverrun)} B)",
            "≥ 3 × (ROM windows of 8)", same && ratio >= 3, Link(rom));
        await StubDumpAsync(ram, size, lat);
    }

    private async Task StubDumpAsync(uint ram, int size, TimeSpan lat)
    {
        // Stub mode: esp-flasher-stub takes one request at a time (docs/fidelity.md), so this only checks it is not slower.
        var link = new LinkOptions { BaudThrottle = true, HostToChipLatency = lat, ChipToHostLatency = lat };
        await using var rig = await ConnectAsync(stub: true, link);
        var data = FillRam(rig.Chip, ram, size, 5);
        var s = rig.Session;
        var (tEsptool, tOurs, same) = await CompareDumpAsync(s, ram, size, data);
        double ratio = tEsptool / tOurs;
        table.Add($"4. dump_mem {size / 1024} KiB, stub, vs one READ_REG per round trip", "esptool-method time ÷ ours (same link, same run)",
            $"{ratio:0.0} × ({tEsptool.TotalSeconds:0.00} s vs {tOurs.TotalSeconds:0.00} s, window {s.Windows.ReadReg}, bytes identical: {(same ? "yes" : "NO")}, overrun {rig.Chip.Statistics.FaultCount(FaultKind.RxOverrun)} B)",
            "≥ 0.95 × (the stub takes one request at a time)", same && ratio >= 0.95, Link(link));
    }

    /// <summary>esptool's dump_mem (one READ_REG per round trip) and ours, on the same session; both must read <paramref name="expected"/>.</summary>
    private static async Task<(TimeSpan Esptool, TimeSpan Ours, bool Same)> CompareDumpAsync(EspSession s, uint ram, int size, byte[] expected)
    {
        var sw = Stopwatch.StartNew();
        var esptool = new byte[size];
        for (int i = 0; i < size; i += 4)
        {
            uint word = await s.ReadRegAsync(ram + (uint)i);
            BitConverter.TryWriteBytes(esptool.AsSpan(i), word);
        }
        var tEsptool = sw.Elapsed;
        sw.Restart();
        var ours = await MemoryAccess.DumpAsync(s, ram, size);
        var tOurs = sw.Elapsed;
        return (tEsptool, tOurs, ours.AsSpan().SequenceEqual(esptool) && ours.AsSpan().SequenceEqual(expected));
    }

    private static byte[] FillRam(VirtualChip chip, uint address, int size, int seed)
    {
        var data = Data.Random(size, seed);
        for (int i = 0; i < size; i += 4) chip.WriteRegister(address + (uint)i, BitConverter.ToUInt32(data, i));
        return data;
    }

    // ------------------------------------------------------------------ helpers

    /// <summary>
    /// Connects to a fresh virtual chip (16 MiB flash, <paramref name="link"/>) like the CLI does: at 115200 (the ROM's
    /// rate), reset into download mode, optional stub upload, then CHANGE_BAUDRATE to <see cref="Baud"/>. The flash
    /// is attached before anything is timed.
    /// </summary>
    private async Task<SimRig> ConnectAsync(bool stub, LinkOptions link, EspTimeouts? timeouts = null, LoaderWindows? windows = null)
    {
        var rig = await SimRig.OpenAsync(chipKey, stub, new VirtualChipOptions { FlashSize = 16 * 1024 * 1024, Link = link },
            new SimRigOptions { Baud = Baud, Timeouts = timeouts ?? EspTimeouts.Default, Windows = windows });
        await rig.Session.EnsureFlashAttachedAsync(default);
        if (rig.Chip.ChipBaud != Baud || rig.Transport.BaudRate != Baud)
        {
            await rig.DisposeAsync();
            throw new InvalidOperationException($"Baud change did not take: chip {rig.Chip.ChipBaud}, host {rig.Transport.BaudRate}.");
        }
        return rig;
    }

    private sealed record Timed(FlashWriteResult Result, double Seconds, double Rate);

    private static async Task<Timed> TimedWriteAsync(EspSession s, uint address, byte[] data)
    {
        var sw = Stopwatch.StartNew();
        var r = await FlashWriter.WriteAsync(s, address, data, Settings.Write);
        double t = sw.Elapsed.TotalSeconds;
        return new Timed(r, t, data.Length / t);
    }

    private static void Check(ReadOnlySpan<byte> got, ReadOnlySpan<byte> expected, string what)
    {
        if (!got.SequenceEqual(expected)) throw new InvalidOperationException($"{what}: the bytes differ.");
    }
}
