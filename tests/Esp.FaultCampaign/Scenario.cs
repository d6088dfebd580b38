using System.IO.Compression;
using Esp.Simulator;

namespace Esp.FaultCampaign;

/// <summary>The fault classes a run draws from.</summary>
public enum FaultClass
{
    None, FlipBits, DropBytes, InsertBytes, GarbageBeforeSync, DelayedReplies, ResetMidCommand, Disconnect, Mixed,
    /// <summary>Mid-write the serial port disappears for 0.2–3 s and comes back under the same path.</summary>
    PortLoss,
    /// <summary>Mid-write the port disappears and comes back under another path with the same USB serial number.</summary>
    Reenumeration,
    /// <summary>Mid-write the port disappears for good.</summary>
    PortGone,
}

/// <summary>How a run writes: the way users do (the MSBuild task, the command line) or the engine API.</summary>
public enum RunPath
{
    /// <summary>The EspDeploy task as the Deploy target calls it (resumes on its own).</summary>
    DeployTask,
    /// <summary><c>dotnet esp write_flash</c> (resumes on its own).</summary>
    CliWriteFlash,
    /// <summary>One <c>FlashWriter.WriteAsync</c> on one session: the engine API, no resume.</summary>
    EngineWrite,
}

/// <summary>When and how the serial port goes away in the port fault classes.</summary>
/// <param name="AfterWriteBytes">Host bytes after the first flash-begin command at which the port disappears.</param>
/// <param name="Outage">How long it stays away (PortLoss, Reenumeration).</param>
public sealed record PortFault(long AfterWriteBytes, TimeSpan Outage);

/// <summary>What one run does; everything follows from its seed.</summary>
public sealed record Scenario
{
    public const int FlashSize = 4 * 1024 * 1024;
    public const int Sector = 0x1000;

    public required int Seed { get; init; }
    public required string Chip { get; init; }
    public required bool Stub { get; init; }
    public required RunPath Path { get; init; }
    /// <summary>The baud rate after connecting (115200 keeps the connect rate; 460800 changes it).</summary>
    public required int Baud { get; init; }
    public required uint Address { get; init; }
    public required byte[] Image { get; init; }
    /// <summary>What the flash holds before the run, at <see cref="OldAddress"/>.</summary>
    public required uint OldAddress { get; init; }
    public required byte[] Old { get; init; }
    public required FaultClass Class { get; init; }
    public required FaultOptions Faults { get; init; }
    /// <summary>Random bytes the host sees before the first reply (0 = none).</summary>
    public required int GarbageBytes { get; init; }
    /// <summary>Set in the port fault classes.</summary>
    public PortFault? PortFault { get; init; }

    public uint End => Address + (uint)Image.Length;
    /// <summary>The sectors the operation may legitimately change.</summary>
    public uint TargetStart => Address / Sector * Sector;
    public uint TargetEnd => (uint)Math.Min(FlashSize, (End + Sector - 1L) / Sector * Sector);

    /// <summary>Whether the path reconnects and finishes on its own after a failed session.</summary>
    public bool Resumes => Path != RunPath.EngineWrite;

    /// <summary>The port can disappear: the chip sits behind a pseudo-terminal the real serial transport opens.</summary>
    public bool NeedsSerialPort => Class is FaultClass.PortLoss or FaultClass.Reenumeration or FaultClass.PortGone;

    public string Label =>
        $"{Path} {Chip}/{(Stub ? "stub" : "rom")} {Image.Length} B @0x{Address:X6} {Baud} Bd {Class}" +
        (PortFault is { } p ? $" (port lost {p.AfterWriteBytes} B into the write{(Class == FaultClass.PortGone ? "" : $", away {p.Outage.TotalSeconds:0.0} s")})" : "");

    private static readonly string[] Chips = ["esp32", "esp32c3", "esp32s3", "esp8266"];

    public static Scenario Create(int seed)
    {
        // The draws of the first campaign come first and in their order, so an older seed keeps its chip, image,
        // address and faults; what came later (path, baud, port faults) is drawn from a second generator.
        var rng = new Random(seed);
        var later = new Random(~seed);
        string chip = Chips[rng.Next(Chips.Length)];
        // The ESP8266 ROM cannot hash flash, so a checked write needs the stub there.
        bool stub = chip == "esp8266" || rng.NextDouble() < 0.7;
        // 60 % of runs write sector-aligned images that may hold an earlier version: the Deploy task or write_flash.
        bool planned = rng.NextDouble() < 0.6;
        var path = planned
            ? later.NextDouble() < 2.0 / 3 ? RunPath.DeployTask : RunPath.CliWriteFlash
            : later.NextDouble() < 0.5 ? RunPath.CliWriteFlash : RunPath.EngineWrite;
        int baud = later.NextDouble() < 0.5 ? 115200 : 460800;

        int size = rng.NextDouble() switch
        {
            < 0.2 => rng.Next(1, 4096),
            < 0.8 => rng.Next(4096, 64 * 1024),
            _ => rng.Next(64 * 1024, 160 * 1024),
        };
        var image = MakeImage(rng, size);

        uint address;
        if (planned || rng.NextDouble() < 0.7)
            address = (uint)rng.Next(1, (FlashSize - size) / Sector - 1) * Sector;
        else
            address = (uint)rng.Next(Sector, FlashSize - size - Sector) & ~3u; // unaligned start: the head is preserved

        // Old contents around the target, so that a partial or misplaced write shows.
        uint oldAddress = Math.Max(0, address / Sector * Sector - 2 * Sector);
        int oldLength = (int)Math.Min(FlashSize - oldAddress, (address + (uint)size - oldAddress) + 3 * Sector);
        var old = new byte[oldLength];
        rng.NextBytes(old);
        if (planned && rng.NextDouble() < 0.4)
        {
            // An earlier version of the same image: only some sectors differ (exercises the MD5 plan and the resume).
            Array.Copy(image, 0, old, address - oldAddress, size);
            for (int s = 0; s < size; s += Sector)
                if (rng.NextDouble() < 0.3) old[address - oldAddress + s + rng.Next(Math.Min(Sector, size - s))] ^= 0x5A;
        }

        // A quarter of the runs lose their serial port, whatever their path; the rest draw one of the first campaign's
        // nine classes.
        var port = Independent(seed, PortStream);
        var cls = (FaultClass)rng.Next(9);
        if (port.NextDouble() < 0.25) cls = FaultClass.PortLoss + port.Next(3);
        var dir = (FaultDirection)rng.Next(3);
        double PerByte() => Math.Exp(Lerp(rng, Math.Log(5e-6), Math.Log(1e-4)));
        var faults = new FaultOptions { Seed = seed, Direction = dir };
        int garbage = 0;
        PortFault? portFault = null;
        long wireEstimate = 4_000 + size;
        switch (cls)
        {
            case FaultClass.FlipBits: faults = faults with { FlipBitRate = PerByte() }; break;
            case FaultClass.DropBytes: faults = faults with { DropByteRate = PerByte() }; break;
            case FaultClass.InsertBytes: faults = faults with { InsertByteRate = PerByte() }; break;
            case FaultClass.GarbageBeforeSync: garbage = rng.Next(1, 2048); break;
            case FaultClass.DelayedReplies:
                faults = faults with { DelayReplyRate = Lerp(rng, 0.01, 0.08), ReplyDelay = TimeSpan.FromMilliseconds(rng.Next(350, 1200)) };
                break;
            case FaultClass.ResetMidCommand: faults = faults with { ResetMidCommandRate = Lerp(rng, 0.005, 0.05) }; break;
            case FaultClass.Disconnect: faults = faults with { DisconnectAfterHostBytes = rng.NextInt64(64, wireEstimate) }; break;
            case FaultClass.Mixed:
                faults = faults with
                {
                    FlipBitRate = PerByte() / 3,
                    DropByteRate = PerByte() / 3,
                    InsertByteRate = PerByte() / 3,
                    DelayReplyRate = Lerp(rng, 0, 0.03),
                    ReplyDelay = TimeSpan.FromMilliseconds(rng.Next(350, 900)),
                    ResetMidCommandRate = Lerp(rng, 0, 0.02),
                };
                garbage = rng.NextDouble() < 0.5 ? rng.Next(1, 512) : 0;
                break;
            case FaultClass.PortLoss or FaultClass.Reenumeration or FaultClass.PortGone:
                // Somewhere in the image's data as it goes on the wire (compressed, the usual case).
                portFault = new PortFault((long)(port.NextDouble() * 0.9 * DeflatedLength(image)),
                    TimeSpan.FromMilliseconds(port.Next(200, 3000)));
                break;
        }
        return new Scenario
        {
            Seed = seed, Chip = chip, Stub = stub, Path = path, Baud = baud, Address = address, Image = image,
            OldAddress = oldAddress, Old = old, Class = cls, Faults = faults, GarbageBytes = garbage, PortFault = portFault,
        };
    }

    /// <summary>The port faults' generator (a stream under which the runs the regression tests replay keep their class).</summary>
    private const uint PortStream = 2;

    /// <summary>
    /// A generator for one group of draws that does not follow the others: System.Random's draws from related seeds
    /// (seed, ~seed) are correlated, so the seed is scrambled first (SplitMix64's finaliser).
    /// </summary>
    private static Random Independent(int seed, uint stream)
    {
        ulong z = (uint)seed + stream * 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return new Random(unchecked((int)(z ^ (z >> 31))));
    }

    private static double Lerp(Random rng, double a, double b) => a + (b - a) * rng.NextDouble();

    private static long DeflatedLength(byte[] data)
    {
        using var buffer = new MemoryStream();
        using (var z = new ZLibStream(buffer, CompressionLevel.Fastest, leaveOpen: true)) z.Write(data);
        return buffer.Length;
    }

    /// <summary>Random data, runs of erased and zero bytes (compressible), and SLIP's special bytes.</summary>
    private static byte[] MakeImage(Random rng, int size)
    {
        var data = new byte[size];
        int at = 0;
        while (at < size)
        {
            int n = Math.Min(size - at, rng.Next(1, 8192));
            var span = data.AsSpan(at, n);
            switch (rng.Next(5))
            {
                case 0: span.Fill(0xFF); break;
                case 1: span.Fill(0x00); break;
                case 2:
                    for (int i = 0; i < n; i++) span[i] = rng.Next(3) switch { 0 => 0xC0, 1 => 0xDB, _ => (byte)rng.Next(256) };
                    break;
                default: rng.NextBytes(span); break;
            }
            at += n;
        }
        // Data, not an application image: the deploy guards (tested on their own) look at images starting with a magic byte.
        if (data[0] is 0xE9 or 0xEA) data[0] = 0x00;
        return data;
    }
}
