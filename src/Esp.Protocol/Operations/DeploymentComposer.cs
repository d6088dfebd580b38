using System.Globalization;
using Esp.Protocol.Chips;
using Esp.Protocol.Errors;
using Esp.Protocol.Images;
using Esp.Protocol.Loader;

namespace Esp.Protocol.Operations;

/// <summary>Settings of <see cref="DeploymentComposer"/>.</summary>
public sealed record ComposeOptions
{
    /// <summary>Flash mode/frequency/size for the header of the image at the bootloader address.</summary>
    public FlashHeaderSettings Header { get; init; } = FlashHeaderSettings.Keep;

    /// <summary>Places every image that names a partition here instead (EspDeployAddress).</summary>
    public uint? PartitionAddressOverride { get; init; }

    /// <summary>Where the partition table is read from when an image names a partition.</summary>
    public uint PartitionTableOffset { get; init; } = PartitionTable.DefaultOffset;
}

/// <summary>
/// Turns requested images into what is written: each is placed (its address, the address override, or its
/// partition in the table read from the chip, which must hold it), padded with an erased word when asked, and,
/// at the chip's bootloader address, given the requested flash mode/frequency/size (<c>detect</c> = the chip's
/// flash size). The deploy task, the flash tasks and the command line all compose through here.
/// </summary>
public static class DeploymentComposer
{
    /// <summary>
    /// Composes against the connected chip: reads the partition table (at most once, only when an image is placed by
    /// partition) and the flash size (only for <c>detect</c>). Pass the result to
    /// <see cref="DeployGuards.CheckAsync(EspSession, ComposedDeployment, GuardOptions?, CancellationToken)"/> so the
    /// guards use the same table.
    /// </summary>
    public static async Task<ComposedDeployment> ComposeAsync(EspSession session, IReadOnlyList<DeployRequest> requests,
        ComposeOptions? options = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(requests);
        options ??= new ComposeOptions();
        ChipPartitionTable? table = null;
        if (options.PartitionAddressOverride is null && requests.Any(r => r.Address is null && r.Partition is not null))
            table = await ChipPartitionTable.ReadAsync(session, options.PartitionTableOffset, ct).ConfigureAwait(false);
        int? flashSize = null;
        if (options.Header.DetectsSize)
        {
            await session.EnsureFlashAttachedAsync(ct).ConfigureAwait(false);
            flashSize = session.FlashSize;
        }
        return Compose(session.Chip, requests, options, table, flashSize);
    }

    /// <summary>
    /// Composes from what is already known about the chip: its partition table (needed only when an image is placed
    /// by partition without an override) and its flash size (for <c>detect</c>; null = unknown, the header's size is kept).
    /// </summary>
    /// <exception cref="EspException">
    /// InvalidArgument for a request with neither address nor partition, or bad header settings; NoDeployPartition
    /// when the table is missing or lacks the partition; ImageTooLargeForPartition when the partition is too small.
    /// </exception>
    public static ComposedDeployment Compose(ChipDefinition chip, IReadOnlyList<DeployRequest> requests, ComposeOptions? options,
        ChipPartitionTable? table, int? flashSize)
    {
        ArgumentNullException.ThrowIfNull(chip);
        ArgumentNullException.ThrowIfNull(requests);
        options ??= new ComposeOptions();
        var header = options.Header.WithDetectedSize(flashSize);
        PartitionTable? parsed = null;
        var entries = new List<ComposedImage>(requests.Count);
        foreach (var request in requests)
        {
            if (request.Data.Length == 0) throw new EspException(EspErrorCode.FileEmpty, $"The image '{request.Name}' is empty.");
            int needed = request.Data.Length + (request.EnsureErasedAfter ? NanoFrameworkDeployment.TerminatorLength : 0);
            PartitionEntry? partition = null;
            DeployPlacement placement;
            uint address;
            if (request.Address is { } given)
            {
                (address, placement) = (given, DeployPlacement.Address);
            }
            else if (request.Partition is null)
            {
                throw new EspException(EspErrorCode.InvalidArgument, $"The image '{request.Name}' has neither an address nor a partition.",
                    "Give every image an address, or the partition it belongs in.");
            }
            else if (options.PartitionAddressOverride is { } overridden)
            {
                (address, placement) = (overridden, DeployPlacement.AddressOverride);
            }
            else
            {
                parsed ??= (table ?? throw new EspException(EspErrorCode.NoDeployPartition,
                    $"'{request.Name}' is to go into partition '{request.Partition}', but no partition table was read.")).ForPlacement();
                partition = FindPartition(parsed, request.Partition);
                if (needed > partition.Size)
                    throw new EspException(EspErrorCode.ImageTooLargeForPartition,
                        $"'{request.Name}' needs {needed} bytes (0x{needed:X}{(request.EnsureErasedAfter ? ", with the erased end word" : "")}) but partition '{partition.Label}' at 0x{partition.Offset:X} holds only {partition.Size} bytes (0x{partition.Size:X}).");
                (address, placement) = (partition.Offset, DeployPlacement.Partition);
            }

            var data = request.Data;
            if (request.EnsureErasedAfter)
            {
                data = new byte[needed];
                request.Data.CopyTo(data, 0);
                data.AsSpan(request.Data.Length).Fill(0xFF);
            }
            bool atBootloader = address == chip.BootloaderOffset;
            bool patched = false;
            if (atBootloader && header.Any)
            {
                var copy = data == request.Data ? (byte[])data.Clone() : data;
                patched = EspImage.PatchFlashParameters(copy, chip, header.Mode, header.Frequency, header.Size);
                if (patched) data = copy;
            }
            bool sizeUnknown = atBootloader && options.Header.DetectsSize && flashSize is null;
            entries.Add(new ComposedImage(request, new DeployImage(request.Name, address, data), placement, partition, patched, sizeUnknown));
        }
        return new ComposedDeployment(entries, header, table, flashSize);
    }

    private static PartitionEntry FindPartition(PartitionTable table, string partition)
    {
        bool deploy = partition.Equals("deploy", StringComparison.OrdinalIgnoreCase);
        var entry = deploy ? table.Find(PartitionTable.TypeData, NanoFrameworkDeployment.DeployPartitionSubType)
            : TryParseSubType(partition) is { } subType ? table.Find(PartitionTable.TypeData, subType)
            : table.FindByLabel(partition);
        return entry ?? throw new EspException(EspErrorCode.NoDeployPartition,
            $"The partition table on the chip has no {(deploy ? "deploy partition (data, subtype 0x84)" : $"partition '{partition}'")}; it holds: {string.Join(", ", table.Entries.Select(e => $"{e.Label} 0x{e.Type:X2}/0x{e.SubType:X2} at 0x{e.Offset:X}"))}.");
    }

    /// <summary>A data subtype written as a number (0x84 or 132), or null for a label.</summary>
    private static byte? TryParseSubType(string text)
    {
        var s = text.Trim();
        bool ok = s.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? uint.TryParse(s.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var v)
            : uint.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out v);
        return ok && v <= 0xFF ? (byte)v : null;
    }
}
