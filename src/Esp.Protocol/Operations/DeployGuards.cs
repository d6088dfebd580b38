using Esp.Protocol.Chips;
using Esp.Protocol.Errors;
using Esp.Protocol.Images;
using Esp.Protocol.Loader;
using NuGet.Versioning;

namespace Esp.Protocol.Operations;

/// <summary>Settings for the checks made before a deploy erases anything.</summary>
public sealed record GuardOptions
{
    /// <summary>Report problems as warnings and deploy anyway (<c>EspForce</c> / <c>--force</c>).</summary>
    public bool Force { get; init; }

    /// <summary>Required chip revision as a version range, e.g. <c>[3.0,)</c> or <c>[1.0,3.99]</c>.</summary>
    public string? ChipRevisionRange { get; init; }

    /// <summary>Where the partition table lives; null skips the partition checks.</summary>
    public uint? PartitionTableOffset { get; init; } = PartitionTable.DefaultOffset;

    /// <summary>
    /// The table already read from the chip (by <see cref="DeploymentComposer"/>); used when it was read at
    /// <see cref="PartitionTableOffset"/>, so the guards do not read it again.
    /// </summary>
    public ChipPartitionTable? KnownPartitionTable { get; init; }
}

/// <summary>One reason not to deploy.</summary>
public sealed record GuardFinding(EspErrorCode Code, string Message, string Help)
{
    public string CodeText => EspException.FormatCode(Code);
    public EspException ToException() => new(Code, Message, Help);
}

/// <summary>
/// Checks made before the first byte is erased: the image's chip, revision range, flash size and segment
/// addresses against the connected chip; partitions; the chip's security state. Each failure names its
/// override (<c>EspForce=true</c> / <c>--force</c>).
/// </summary>
public static class DeployGuards
{
    private const string Override = " To deploy anyway, set EspForce=true (--force).";

    /// <summary>Parses a revision range such as <c>[3.0,)</c>; a plain version means "at least".</summary>
    public static VersionRange ParseRevisionRange(string text)
    {
        var trimmed = text.Trim();
        if (trimmed.StartsWith('v') || trimmed.StartsWith('V')) trimmed = trimmed[1..];
        if (VersionRange.TryParse(trimmed, out var range)) return range;
        throw new EspException(EspErrorCode.InvalidVersionRange, $"'{text}' is not a chip revision range.",
            "Write a range such as [3.0,) (v3.0 or later) or [1.0,3.99] (v1.0 up to v3.99).");
    }

    /// <summary>Chip revision major·100+minor as a version (v3.1 → 3.1).</summary>
    public static NuGetVersion RevisionVersion(int revision) => new(revision / 100, revision % 100, 0);

    /// <summary>
    /// Checks a composed deployment, with the partition table the composer read (if it read one); the chip's table
    /// is read at most once per deploy.
    /// </summary>
    public static Task<IReadOnlyList<GuardFinding>> CheckAsync(EspSession session, ComposedDeployment deployment,
        GuardOptions? options = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(deployment);
        options ??= new GuardOptions();
        if (deployment.PartitionTable is { } table) options = options with { KnownPartitionTable = table };
        return CheckAsync(session, deployment.Images, options, ct);
    }

    /// <summary>Runs every check and returns what it found; throws the first finding unless <see cref="GuardOptions.Force"/>.</summary>
    public static async Task<IReadOnlyList<GuardFinding>> CheckAsync(EspSession session, IReadOnlyList<DeployImage> images,
        GuardOptions? options = null, CancellationToken ct = default)
    {
        options ??= new GuardOptions();
        var range = options.ChipRevisionRange is { Length: > 0 } r ? ParseRevisionRange(r) : null;
        var findings = new List<GuardFinding>();
        var chip = session.Chip;
        await session.EnsureFlashAttachedAsync(ct).ConfigureAwait(false); // learns the flash size

        // Security state first: nothing else matters if a plain write cannot work.
        if (session.Security?.FlashEncryptionEnabled == true)
            findings.Add(new(EspErrorCode.FlashEncrypted,
                $"Flash encryption is enabled on this {chip.Name} (FLASH_CRYPT_CNT={session.Security.FlashCryptCount}); a plain write would store data the chip cannot decrypt.",
                "Build encrypted images and write them with the encrypt option, or use the chip's OTA path." + Override));
        if (session.SecureDownloadMode)
            findings.Add(new(EspErrorCode.SecureDownloadMode,
                $"This {chip.Name} is in Secure Download Mode: its written flash cannot be read back or verified, and the revision and partitions cannot be checked.",
                "Deploy signed images through the bootloader's secure update path, or disable Secure Download Mode (eFuse) on a development board." + Override));

        int? revision = session.SecureDownloadMode ? null : await ChipInfo.ReadRevisionAsync(session, ct).ConfigureAwait(false);
        if (range is not null && revision is { } rv && !range.Satisfies(RevisionVersion(rv)))
            findings.Add(new(EspErrorCode.ChipRevisionOutOfRange,
                $"The chip is revision {RevisionLayout.Format(rv)}, outside the required range {range.PrettyPrint()}.",
                "Use a board with a suitable chip revision, or change EspChipRevision (--chip-rev)." + Override));

        foreach (var image in images)
            CheckEspImage(session, image, revision, findings);

        if (options.PartitionTableOffset is { } tableOffset && !session.SecureDownloadMode && FlashReader.IsAvailable(session))
        {
            var onChip = options.KnownPartitionTable is { } known && known.Offset == tableOffset
                ? known
                : await ChipPartitionTable.ReadAsync(session, tableOffset, ct).ConfigureAwait(false);
            CheckPartitions(images, onChip, findings);
        }

        if (findings.Count > 0 && !options.Force) throw findings[0].ToException();
        return findings;
    }

    private static void CheckEspImage(EspSession session, DeployImage image, int? revision, List<GuardFinding> findings)
    {
        if (image.Data.Length == 0 || image.Data[0] is not (EspImage.Magic or EspImage.MagicV2)) return;
        var chip = session.Chip;
        if (!EspImage.TryParse(image.Data, null, out var parsed) || parsed is null) return;

        bool imageIs8266 = parsed.Format != ImageFormat.Esp32;
        if (imageIs8266 != chip.IsEsp8266)
        {
            findings.Add(new(EspErrorCode.ImageChipMismatch,
                $"'{image.Name}' is an {(imageIs8266 ? "ESP8266" : "ESP32-family")} image, but the connected chip is {chip.Name}.",
                $"Build the image for {chip.Name}." + Override));
            return;
        }
        if (!imageIs8266 && chip.ImageChipId is { } id && parsed.ChipId != id)
        {
            var built = ChipDatabase.ByImageChipId(parsed.ChipId)?.Name ?? $"chip id {parsed.ChipId}";
            findings.Add(new(EspErrorCode.ImageChipMismatch,
                $"'{image.Name}' was built for {built}, but the connected chip is {chip.Name}.",
                $"Build the image for {chip.Name} (idf.py set-target {chip.Key})." + Override));
            return;
        }
        if (!imageIs8266 && revision is { } rev)
        {
            int min = parsed.MinRevFull, max = parsed.MaxRevFull;
            if (rev < min || (max != 0xFFFF && rev > max))
                findings.Add(new(EspErrorCode.ChipRevisionOutOfRange,
                    $"'{image.Name}' runs on {chip.Name} revisions {RevisionLayout.Format(min)}" +
                    (max == 0xFFFF ? " and later" : $" to {RevisionLayout.Format(max)}") + $", but this chip is {RevisionLayout.Format(rev)}.",
                    "Rebuild with a minimum/maximum revision that includes this chip (CONFIG_ESP_REV_MIN_FULL)." + Override));
        }
        if (session.FlashSize is { } flash && parsed.FlashSizeName(chip) is { } sizeName && ParseSize(sizeName) is { } headerSize && headerSize > flash)
            findings.Add(new(EspErrorCode.ImageFlashSizeTooLarge,
                $"'{image.Name}' says the flash is {sizeName}, but the chip's flash is {FlashIdentity.FormatSize(flash)}.",
                $"Rebuild for a {FlashIdentity.FormatSize(flash)} flash (or pass --flash-size / EspFlashSize)." + Override));
        for (int i = 0; i < parsed.Segments.Count; i++)
        {
            var s = parsed.Segments[i];
            if (s.Data.Length == 0 || s.Address == 0) continue; // padding segments
            if (chip.MemoryMap.Any(r => r.Contains(s.Address, (uint)s.Data.Length))) continue;
            findings.Add(new(EspErrorCode.SegmentOutsideMemoryMap,
                $"Segment {i} of '{image.Name}' loads at 0x{s.Address:X8}..0x{s.Address + (uint)s.Data.Length:X8}, which is not {chip.Name} memory.",
                $"Build the image for {chip.Name}." + Override));
        }
    }

    private static void CheckPartitions(IReadOnlyList<DeployImage> images, ChipPartitionTable onChip, List<GuardFinding> findings)
    {
        // No valid table on the chip yet (a first flash writes it): nothing to check against.
        if (onChip.Validated() is not { } table) return;
        uint tableOffset = onChip.Offset;
        foreach (var image in images)
        {
            if (image.End <= tableOffset + PartitionTable.MaxLength) continue; // bootloader and the table itself
            var home = table.Entries.FirstOrDefault(p => image.Address >= p.Offset && image.Address < p.End);
            if (home is null) continue;
            if (image.End > home.End)
                findings.Add(new(EspErrorCode.ImagePartitionOverflow,
                    $"'{image.Name}' ({image.Data.Length} bytes at 0x{image.Address:X8}) runs 0x{image.End - home.End:X} bytes past the end of partition '{home.Label}' (0x{home.Offset:X8}..0x{home.End:X8}).",
                    "Make the image smaller or enlarge the partition." + Override));
            foreach (var other in table.Entries.Where(p => p != home && image.Address < p.End && image.End > p.Offset))
                findings.Add(new(EspErrorCode.ImagePartitionOverlap,
                    $"'{image.Name}' at 0x{image.Address:X8}..0x{image.End:X8} overlaps partition '{other.Label}' (0x{other.Offset:X8}..0x{other.End:X8}).",
                    $"Keep the image inside partition '{home.Label}'." + Override));
        }
    }

    private static long? ParseSize(string name)
    {
        var n = name.Replace("-c1", "");
        if (n.EndsWith("MB") && int.TryParse(n[..^2], out var mb)) return mb * 1024L * 1024;
        if (n.EndsWith("KB") && int.TryParse(n[..^2], out var kb)) return kb * 1024L;
        return null;
    }
}
