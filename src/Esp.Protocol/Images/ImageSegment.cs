namespace Esp.Protocol.Images;

/// <summary>One segment of an ESP image: an 8-byte header (load address, length) followed by the data.</summary>
public sealed class ImageSegment
{
    /// <summary>Creates a segment.</summary>
    /// <param name="address">Load address (0 for padding segments).</param>
    /// <param name="data">The segment data (not copied).</param>
    /// <param name="fileOffset">Offset of the segment header in the image file, or -1 when not known.</param>
    public ImageSegment(uint address, byte[] data, int fileOffset = -1)
    {
        ArgumentNullException.ThrowIfNull(data);
        Address = address;
        Data = data;
        FileOffset = fileOffset;
    }

    /// <summary>Load address.</summary>
    public uint Address { get; }

    /// <summary>Segment data.</summary>
    public byte[] Data { get; }

    /// <summary>Offset of the segment's 8-byte header in the file it was read from (-1 when built in memory).</summary>
    public int FileOffset { get; internal set; }

    /// <summary>Offset of the first data byte in the file, or -1.</summary>
    public int DataOffset => FileOffset < 0 ? -1 : FileOffset + 8;

    /// <summary>Length of the data.</summary>
    public int Length => Data.Length;

    /// <summary>Name of an ELF section this segment came from, when known (used by <c>ElfToImage</c>).</summary>
    public string? Name { get; init; }

    /// <summary>True for segments with load address 0, which esptool writes only to align flash-mapped segments.</summary>
    public bool IsPadding => Address == 0;

    /// <inheritdoc />
    public override string ToString() =>
        $"segment 0x{Address:X8} len 0x{Length:X}" + (FileOffset >= 0 ? $" at file offset 0x{FileOffset:X}" : "");
}
