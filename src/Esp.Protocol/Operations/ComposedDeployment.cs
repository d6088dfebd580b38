using Esp.Protocol.Images;

namespace Esp.Protocol.Operations;

/// <summary>How a composed image got its address.</summary>
public enum DeployPlacement
{
    /// <summary>The request named the address.</summary>
    Address,
    /// <summary>The request named a partition; the address override (EspDeployAddress) was used instead of the table.</summary>
    AddressOverride,
    /// <summary>The request named a partition, found in the table read from the chip.</summary>
    Partition,
}

/// <summary>One request turned into the image to write.</summary>
/// <param name="Request">What was asked for.</param>
/// <param name="Image">The bytes to write (padded and patched) and their address.</param>
/// <param name="Placement">Where the address came from.</param>
/// <param name="Partition">The partition it was placed in, for <see cref="DeployPlacement.Partition"/>.</param>
/// <param name="HeaderPatched">The header's flash mode/frequency/size bytes were changed.</param>
/// <param name="FlashSizeUnknown">The image is at the bootloader address, <c>detect</c> was asked and the chip's flash size is unknown: its size was kept.</param>
public sealed record ComposedImage(DeployRequest Request, DeployImage Image, DeployPlacement Placement, PartitionEntry? Partition,
    bool HeaderPatched, bool FlashSizeUnknown);

/// <summary>
/// What <see cref="DeploymentComposer"/> produced: the images to write, and what it learnt from the chip on the way,
/// which <see cref="DeployGuards"/> takes over instead of asking the chip again.
/// </summary>
public sealed record ComposedDeployment(IReadOnlyList<ComposedImage> Entries, FlashHeaderSettings Header, ChipPartitionTable? PartitionTable, int? FlashSize)
{
    /// <summary>The images to write, in request order.</summary>
    public IReadOnlyList<DeployImage> Images { get; } = Entries.Select(e => e.Image).ToList();
}
