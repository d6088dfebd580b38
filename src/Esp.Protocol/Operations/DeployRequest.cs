namespace Esp.Protocol.Operations;

/// <summary>
/// An image as asked for, before <see cref="DeploymentComposer"/> places it: the file's bytes and either an
/// address or the partition to put it in.
/// </summary>
/// <param name="Name">Shown in messages and results (e.g. the file name).</param>
/// <param name="Data">The file's bytes; never changed (padding and header patches work on a copy).</param>
public sealed record DeployRequest(string Name, byte[] Data)
{
    /// <summary>Where the image goes; null places it by <see cref="Partition"/>.</summary>
    public uint? Address { get; init; }

    /// <summary>
    /// Used when <see cref="Address"/> is null: <c>deploy</c> (nanoFramework's data partition, subtype 0x84), a data
    /// partition subtype as a number (<c>0x84</c>, <c>132</c>) or a partition label.
    /// </summary>
    public string? Partition { get; init; }

    /// <summary>Append an erased word (4 × 0xFF) so the word after the image reads erased, as the nanoFramework CLR needs.</summary>
    public bool EnsureErasedAfter { get; init; }
}
