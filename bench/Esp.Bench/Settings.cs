using Esp.Protocol.Operations;

namespace Esp.Bench;

/// <summary>What the command line sets for every figure of a run.</summary>
public static class Settings
{
    /// <summary>zlib level for compressed writes (--zlevel).</summary>
    public static int ZLibLevel { get; set; } = new FlashWriteOptions().ZLibLevel;

    /// <summary>The write options every figure uses.</summary>
    public static FlashWriteOptions Write => new() { ZLibLevel = ZLibLevel };
}
