namespace Esp.Protocol.Images;

/// <summary>
/// A run of bytes that belongs at a flash (or memory) address: one input of <c>MergeBin</c>, one
/// contiguous run read from an Intel HEX file.
/// </summary>
/// <param name="Address">Where the first byte goes.</param>
/// <param name="Data">The bytes.</param>
/// <param name="Name">Optional name (usually a file name) used in error messages.</param>
public sealed record ImagePart(uint Address, byte[] Data, string? Name = null)
{
    /// <summary>One past the last byte (as a 64-bit value so that a part ending at 4 GiB does not wrap).</summary>
    public ulong End => (ulong)Address + (ulong)Data.Length;

    /// <summary>The name for messages: the given name, or "data at 0x…".</summary>
    public string DisplayName => Name ?? $"data at 0x{Address:X}";

    /// <inheritdoc />
    public bool Equals(ImagePart? other) =>
        other is not null && Address == other.Address && Name == other.Name && Data.AsSpan().SequenceEqual(other.Data);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Address, Data.Length, Name);
}
