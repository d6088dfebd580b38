using Esp.Protocol.Chips;
using Esp.Protocol.Loader;

namespace Esp.Protocol.Operations;

/// <summary>What a connected chip says about itself.</summary>
public sealed record ChipInfoResult(
    string Chip, string Description, int? Revision, IReadOnlyList<string> Features, int? CrystalMhz,
    string Mac, SecurityInfo? Security, FlashIdentity? Flash, bool StubRunning)
{
    public string RevisionText => Revision is { } r ? RevisionLayout.Format(r) : "unknown";
}

/// <summary>chip_id / read_mac / flash_id in one: reads the eFuse and UART registers esptool reads.</summary>
public static class ChipInfo
{
    public static async Task<string> ReadMacAsync(EspSession session, CancellationToken ct = default) =>
        MacAddress.Format(await MacAddress.FromRegistersAsync(session.Chip, a => session.ReadRegAsync(a, ct), ct).ConfigureAwait(false));

    public static async Task<int?> ReadRevisionAsync(EspSession session, CancellationToken ct = default)
    {
        if (session.Chip.Revision is null || session.SecureDownloadMode) return null;
        return await session.Chip.Revision.ReadAsync(a => session.ReadRegAsync(a, ct), ct).ConfigureAwait(false);
    }

    public static async Task<ChipInfoResult> ReadAsync(EspSession session, bool includeFlash = true, CancellationToken ct = default)
    {
        var chip = session.Chip;
        if (session.SecureDownloadMode)
            return new ChipInfoResult(chip.Key, chip.Name, null, [], null, "unavailable (Secure Download Mode)", session.Security, null, session.Loader.Kind == LoaderKind.FlasherStub);
        Func<uint, Task<uint>> read = a => session.ReadRegAsync(a, ct);
        string description = await chip.DescribeChipAsync(read, ct).ConfigureAwait(false);
        var features = await chip.DescribeFeaturesAsync(read, ct).ConfigureAwait(false);
        int? revision = await ReadRevisionAsync(session, ct).ConfigureAwait(false);
        int? crystal = chip.FixedCrystalMhz != 0
            ? chip.FixedCrystalMhz
            : chip.EstimateCrystalMhz(await session.ReadRegAsync(chip.UartClkDivRegister, ct).ConfigureAwait(false), session.Transport.BaudRate);
        string mac = await ReadMacAsync(session, ct).ConfigureAwait(false);
        FlashIdentity? flash = includeFlash ? await FlashIdentity.ReadAsync(session, ct).ConfigureAwait(false) : null;
        return new ChipInfoResult(chip.Key, description, revision, features, crystal, mac, session.Security, flash, session.Loader.Kind == LoaderKind.FlasherStub);
    }
}
