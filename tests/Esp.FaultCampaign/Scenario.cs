using Esp.Simulator;

namespace Esp.FaultCampaign;

/// <summary>The fault classes a run draws from.</summary>
public enum FaultClass { None, FlipBits, DropBytes, InsertBytes, GarbageBeforeSync, DelayedReplies, ResetMidCommand, Disconnect, Mixed }

/// <summary>What one run does; everything follows from its seed.</summary>
public sealed record Scenario
{
    public const int FlashSize = 4 * 1024 * 1024;
    public const int Sector = 0x1000;

    public required int Seed { get; init; }
    public required string Chip { get; init; }
    public required bool Stub { get; init; }
    /// <summary>true: ResumingDeployer (plan by MD5, resume on a fresh session); false: one FlashWriter.WriteAsync, no resume.</summary>
    public required bool Deploy { get; init; }
    public required uint Address { get; init; }
    public required byte[] Image { get; init; }
    /// <summary>What the flash holds before the run, at <see cref="OldAddress"/>.</summary>
    public required uint OldAddress { get; init; }
    public required byte[] Old { get; init; }
    public required FaultClass Class { get; init; }
    public required FaultOptions Faults { get; init; }
    /// <summary>Random bytes the host sees before the first reply (0 = none).</summary>
    public required int GarbageBytes { get; init; }

    public uint End => Address + (uint)Image.Length;
    /// <summary>The sectors the operation may legitimately change.</summary>
    public uint TargetStart => Address / Sector * Sector;
    public uint TargetEnd => (uint)Math.Min(FlashSize, (End + Sector - 1L) / Sector * Sector);

    public string Label =>
        $"{Chip}/{(Stub ? "stub" : "rom")} {(Deploy ? "deploy" : "write")} {Image.Length} B @0x{Address:X6} {Class}";

    private static readonly string[] Chips = ["esp32", "esp32c3", "esp32s3", "esp8266"];

    public static Scenario Create(int seed)
    {
        var rng = new Random(seed);
        string chip = Chips[rng.Next(Chips.Length)];
        // The ESP8266 ROM cannot hash flash, so a checked write needs the stub there.
        bool stub = chip == "esp8266" || rng.NextDouble() < 0.7;
        bool deploy = rng.NextDouble() < 0.6;

        int size = rng.NextDouble() switch
        {
            < 0.2 => rng.Next(1, 4096),
            < 0.8 => rng.Next(4096, 64 * 1024),
            _ => rng.Next(64 * 1024, 160 * 1024),
        };
        var image = MakeImage(rng, size);

        uint address;
        if (deploy || rng.NextDouble() < 0.7)
            address = (uint)rng.Next(1, (FlashSize - size) / Sector - 1) * Sector;
        else
            address = (uint)rng.Next(Sector, FlashSize - size - Sector) & ~3u; // unaligned start: the head is preserved

        // Old contents around the target, so that a partial or misplaced write shows.
        uint oldAddress = Math.Max(0, address / Sector * Sector - 2 * Sector);
        int oldLength = (int)Math.Min(FlashSize - oldAddress, (address + (uint)size - oldAddress) + 3 * Sector);
        var old = new byte[oldLength];
        rng.NextBytes(old);
        if (deploy && rng.NextDouble() < 0.4)
        {
            // An earlier version of the same image: only some sectors differ (exercises the MD5 plan).
            Array.Copy(image, 0, old, address - oldAddress, size);
            for (int s = 0; s < size; s += Sector)
                if (rng.NextDouble() < 0.3) old[address - oldAddress + s + rng.Next(Math.Min(Sector, size - s))] ^= 0x5A;
        }

        var cls = (FaultClass)rng.Next(Enum.GetValues<FaultClass>().Length);
        var dir = (FaultDirection)rng.Next(3);
        double PerByte() => Math.Exp(Lerp(rng, Math.Log(5e-6), Math.Log(1e-4)));
        var faults = new FaultOptions { Seed = seed, Direction = dir };
        int garbage = 0;
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
        }
        return new Scenario
        {
            Seed = seed, Chip = chip, Stub = stub, Deploy = deploy, Address = address, Image = image,
            OldAddress = oldAddress, Old = old, Class = cls, Faults = faults, GarbageBytes = garbage,
        };
    }

    private static double Lerp(Random rng, double a, double b) => a + (b - a) * rng.NextDouble();

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
        return data;
    }
}
