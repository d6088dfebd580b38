using Esp.Protocol.Errors;
using Esp.Protocol.Images;
using Esp.Protocol.Loader;

namespace Esp.Protocol.Operations;

/// <summary>
/// The partition table as read from the chip's flash, once per deploy: placing images by partition and the
/// deploy guards both work from this copy.
/// </summary>
/// <param name="Offset">Where it was read from.</param>
/// <param name="Bytes">The <see cref="PartitionTable.MaxLength"/> bytes at <paramref name="Offset"/>.</param>
public sealed record ChipPartitionTable(uint Offset, byte[] Bytes)
{
    /// <summary>Reads the table area from the chip (it may hold no table at all).</summary>
    public static async Task<ChipPartitionTable> ReadAsync(EspSession session, uint offset = PartitionTable.DefaultOffset, CancellationToken ct = default)
    {
        var bytes = await FlashReader.ReadAsync(session, offset, PartitionTable.MaxLength, null, ct).ConfigureAwait(false);
        return new ChipPartitionTable(offset, bytes);
    }

    /// <summary>True when the area is erased: the chip has no partition table yet.</summary>
    public bool IsErased => Bytes.AsSpan().IndexOfAnyExcept((byte)0xFF) < 0;

    /// <summary>
    /// The table for placing images: parsed without ESP-IDF's layout checks, since only the rows matter there.
    /// </summary>
    /// <exception cref="EspException">NoDeployPartition when the area is erased; InvalidPartitionTable when it holds no table.</exception>
    public PartitionTable ForPlacement()
    {
        if (IsErased)
            throw new EspException(EspErrorCode.NoDeployPartition, $"The flash at 0x{Offset:X8} is erased: the chip has no partition table.",
                "Flash the firmware (with its partition table) first, or set EspDeployAddress.");
        return PartitionTable.Parse(Bytes, validate: false);
    }

    /// <summary>The table with ESP-IDF's checks, for the guards; null when the flash holds no valid table (a first flash writes it).</summary>
    public PartitionTable? Validated()
    {
        try
        {
            return PartitionTable.Parse(Bytes);
        }
        catch (EspException)
        {
            return null;
        }
    }
}
