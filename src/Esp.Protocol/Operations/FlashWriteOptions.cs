namespace Esp.Protocol.Operations;

/// <summary>How to write.</summary>
public sealed record FlashWriteOptions
{
    /// <summary>null = compress when it makes the transfer smaller and the loader supports it.</summary>
    public bool? Compress { get; init; }
    /// <summary>Check the chip's MD5 of the written range (on by default; a write is only reported after it).</summary>
    public bool Verify { get; init; } = true;
    /// <summary>Keep the bytes before an address that is not sector aligned (they would be erased otherwise).</summary>
    public bool PreserveSectorHead { get; init; } = true;

    /// <summary>zlib level (1..9) for compressed writes; docs/performance.md has the measurement behind the default.</summary>
    public int ZLibLevel { get; init; } = 5;

    /// <summary>
    /// Payloads up to this size keep their compressed chunks from the counting pass and send them (one compression
    /// pass, memory ∝ compressed image); larger ones recompress while sending (two passes, memory bounded).
    /// </summary>
    public int HoldCompressedLimit { get; init; } = 8 * 1024 * 1024;

    /// <summary>Compressed images shared with other writes of the same bytes (many boards, one image); null compresses for this write alone.</summary>
    public CompressionCache? SharedCompression { get; init; }
}

/// <summary>What a write did.</summary>
public sealed record FlashWriteResult(
    uint Address, int Length, long WireBytes, bool Compressed, bool Verified, string Md5, TimeSpan Elapsed)
{
    /// <summary>Payload bytes per second.</summary>
    public double Rate => Length / Math.Max(1e-9, Elapsed.TotalSeconds);
}
