namespace Esp.Protocol.Loader;

/// <summary>Progress of a long operation: bytes (or words) done of a total, with a short label.</summary>
public readonly record struct EspProgress(string Operation, long Done, long Total, string? Detail = null)
{
    public double Fraction => Total <= 0 ? 1 : Math.Clamp((double)Done / Total, 0, 1);
}

/// <summary>One packet seen on the wire, for <c>--trace</c>.</summary>
public readonly record struct WireTraceEvent(bool FromHost, ReadOnlyMemory<byte> Packet, string Kind);
