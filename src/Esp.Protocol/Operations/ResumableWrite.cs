using Esp.Protocol.Commands;
using Esp.Protocol.Loader;

namespace Esp.Protocol.Operations;

/// <summary>
/// One image of a plain write (write_flash, EspWriteFlash) that a later session can finish after a dropped link. The
/// first session writes it with <see cref="FlashWriter"/>; a resume compares the chip's sector MD5s, rewrites what
/// differs and verifies the whole image (<see cref="Deployer"/>). An image that starts inside a sector is finished as
/// whole sectors, with the bytes before its start as they were before the first session erased anything: that
/// session may have erased them (a ROM erases the whole range at FLASH_BEGIN) before the link dropped.
/// </summary>
public sealed class ResumableWrite(DeployImage image, FlashWriteOptions? options = null)
{
    private readonly FlashWriteOptions _options = options ?? new FlashWriteOptions();
    private byte[]? _sectorHead;

    public DeployImage Image => image;

    /// <summary>The first session's write.</summary>
    public async Task<FlashWriteResult> WriteAsync(EspSession session, IProgress<EspProgress>? progress = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(session);
        _sectorHead ??= await SectorHeadAsync(session, ct).ConfigureAwait(false);
        return await FlashWriter.WriteAsync(session, image.Address, image.Data, _options, progress, ct).ConfigureAwait(false);
    }

    /// <summary>
    /// A later session's write: only what differs on the chip is written, and the whole image is verified. The result
    /// names the image's own address and length; its MD5 and written ranges cover the sector head too, if any.
    /// </summary>
    public async Task<DeployImageResult> ResumeAsync(EspSession session, bool? compress = null, IProgress<EspProgress>? progress = null,
        CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(session);
        // Not read yet: the earlier session stopped before its write began, so nothing of this image was erased.
        _sectorHead ??= await SectorHeadAsync(session, ct).ConfigureAwait(false);
        var whole = _sectorHead.Length == 0
            ? image
            : new DeployImage(image.Name, image.Address - (uint)_sectorHead.Length, [.. _sectorHead, .. image.Data]);
        var result = await Deployer.DeployAsync(session, [whole], new DeployOptions { Compress = compress }, progress, ct).ConfigureAwait(false);
        return result.Images[0] with { Address = image.Address, Length = image.Data.Length };
    }

    /// <summary>What <see cref="FlashWriter"/> puts before an unaligned start: the bytes there now, or erased bytes where it cannot keep them.</summary>
    private async Task<byte[]> SectorHeadAsync(EspSession session, CancellationToken ct)
    {
        int length = (int)(image.Address % ProtocolConstants.FlashSectorSize);
        if (length == 0) return [];
        if (_options.PreserveSectorHead && FlashReader.IsAvailable(session))
            return await FlashReader.ReadCheckedAsync(session, image.Address - (uint)length, length, ct).ConfigureAwait(false);
        var erased = new byte[length];
        erased.AsSpan().Fill(0xFF);
        return erased;
    }
}
