using System.Globalization;
using Esp.Protocol.Errors;
using Esp.Protocol.Loader;
using Esp.Protocol.Operations;
using Microsoft.Build.Framework;

namespace Esp.Build.Tasks;

/// <summary>read_flash_status: SR1..SR3 of the SPI flash.</summary>
public sealed class EspReadFlashStatus : EspConnectedTask
{
    /// <summary>Status bytes to read: 1, 2 (default) or 3.</summary>
    public int Bytes { get; set; } = 2;

    /// <summary>The value as hex, e.g. 0x0200.</summary>
    [Output] public string? Status { get; private set; }
    [Output] public int StatusValue { get; private set; }
    /// <summary>Named bits, e.g. "BP=0 QE=1".</summary>
    [Output] public string? Description { get; private set; }

    protected override async Task RunAsync(EspSession session, CancellationToken ct)
    {
        uint status = await FlashStatus.ReadAsync(session, Bytes, ct).ConfigureAwait(false);
        StatusValue = (int)status;
        Status = "0x" + status.ToString($"X{Bytes * 2}", CultureInfo.InvariantCulture);
        Description = FlashStatus.Describe(status, Bytes);
        Log.LogMessage(MessageImportance.High, "Flash status: {0} ({1}).", Status, Description);
    }
}

/// <summary>
/// write_flash_status. Volatile by default; <see cref="NonVolatile"/> writes persist and can lock a flash for good,
/// so they are refused (ESP1020) unless <see cref="AllowNonVolatile"/> is set (from EspAllowNonVolatileStatusWrite).
/// </summary>
public sealed class EspWriteFlashStatus : EspConnectedTask
{
    [Required] public string Value { get; set; } = "";
    public int Bytes { get; set; } = 2;
    public bool NonVolatile { get; set; }
    public bool AllowNonVolatile { get; set; }

    [Output] public string? StatusBefore { get; private set; }
    [Output] public string? StatusAfter { get; private set; }
    [Output] public bool Applied { get; private set; }

    protected override async Task RunAsync(EspSession session, CancellationToken ct)
    {
        uint value = ParseUInt(Value, nameof(Value));
        var result = await FlashStatus.WriteAsync(session, value, Bytes, NonVolatile, ct).ConfigureAwait(false);
        string fmt = $"X{Bytes * 2}";
        StatusBefore = "0x" + result.Before.ToString(fmt, CultureInfo.InvariantCulture);
        StatusAfter = "0x" + result.After.ToString(fmt, CultureInfo.InvariantCulture);
        Applied = result.Applied;
        Log.LogMessage(MessageImportance.High, "Flash status {0} -> {1} ({2}){3}.", StatusBefore, StatusAfter, FlashStatus.Describe(result.After, Bytes), NonVolatile ? ", non-volatile" : ", volatile");
        if (!Applied)
            LogEspWarning(EspErrorCode.FlashWriteProtected, $"The status register reads {StatusAfter} after writing 0x{value.ToString(fmt, CultureInfo.InvariantCulture)}: the flash did not take the new value (SRP/WP may protect it).");
    }

    internal void CheckConsent()
    {
        if (NonVolatile && !AllowNonVolatile)
            throw new EspException(EspErrorCode.ConfirmationRequired,
                "EspWriteFlashStatus with NonVolatile=\"true\" was refused: a non-volatile status write survives power-off and can lock the flash for good.",
                "If you mean it, set EspAllowNonVolatileStatusWrite=true (AllowNonVolatile=\"true\" on the task).");
    }

    protected override void Validate() => CheckConsent();
}

/// <summary>read_flash_sfdp: the JESD216 SFDP table (bytes as hex and the parsed density).</summary>
public sealed class EspReadSfdp : EspConnectedTask
{
    /// <summary>Start address in the SFDP space; empty reads the header and the basic parameter table.</summary>
    public string? Address { get; set; }
    /// <summary>Bytes to read (1..4096) when <see cref="Address"/> is given.</summary>
    public string? Length { get; set; }

    [Output] public string? Hex { get; private set; }
    [Output] public long DensityBytes { get; private set; }
    [Output] public long DensityBits { get; private set; }
    /// <summary>SFDP revision, e.g. "1.6".</summary>
    [Output] public string? SfdpRevision { get; private set; }
    /// <summary>Erase types as "4096:0x20;32768:0x52;…".</summary>
    [Output] public string? EraseTypes { get; private set; }

    protected override async Task RunAsync(EspSession session, CancellationToken ct)
    {
        byte[] bytes;
        SfdpInfo? info = null;
        if (NonEmpty(Address) is null)
        {
            (bytes, info) = await Sfdp.ReadTableAsync(session, ct).ConfigureAwait(false);
        }
        else
        {
            uint address = ParseUInt(Address, nameof(Address));
            int length = NonEmpty(Length) is null ? 16 : (int)ParseUInt(Length, nameof(Length));
            bytes = await Sfdp.ReadAsync(session, address, length, ct).ConfigureAwait(false);
            if (address == 0)
            {
                try { info = SfdpInfo.Parse(bytes); }
                catch (EspException) { info = null; }
            }
        }
        Hex = Convert.ToHexStringLower(bytes);
        if (info is not null)
        {
            DensityBits = info.DensityBits ?? 0;
            DensityBytes = info.DensityBytes ?? 0;
            SfdpRevision = $"{info.MajorRevision}.{info.MinorRevision}";
            EraseTypes = string.Join(';', info.EraseTypes.Select(e => $"{e.Size}:0x{e.Opcode:X2}"));
            Log.LogMessage(MessageImportance.High, "SFDP {0}: density {1} bytes ({2}), erase types {3}.", SfdpRevision, DensityBytes,
                DensityBytes > 0 ? FlashIdentity.FormatSize(DensityBytes) : "unknown", EraseTypes);
        }
        Log.LogMessage(MessageImportance.Normal, "SFDP bytes: {0}", Hex);
    }
}

/// <summary>read_mem: one 32-bit word.</summary>
public sealed class EspReadMem : EspConnectedTask
{
    [Required] public string Address { get; set; } = "";
    [Output] public string? Value { get; private set; }

    protected override async Task RunAsync(EspSession session, CancellationToken ct)
    {
        uint address = ParseUInt(Address, nameof(Address));
        uint v = await MemoryAccess.ReadWordAsync(session, address, ct).ConfigureAwait(false);
        Value = Numbers.Hex(v);
        Log.LogMessage(MessageImportance.High, "{0} = {1}", Numbers.Hex(address), Value);
    }
}

/// <summary>write_mem: one 32-bit word, optionally masked.</summary>
public sealed class EspWriteMem : EspConnectedTask
{
    [Required] public string Address { get; set; } = "";
    [Required] public string Value { get; set; } = "";
    public string? Mask { get; set; }
    public int DelayUs { get; set; }

    protected override async Task RunAsync(EspSession session, CancellationToken ct)
    {
        uint address = ParseUInt(Address, nameof(Address)), value = ParseUInt(Value, nameof(Value));
        uint mask = NonEmpty(Mask) is null ? 0xFFFFFFFF : ParseUInt(Mask, nameof(Mask));
        await MemoryAccess.WriteWordAsync(session, address, value, mask, (uint)DelayUs, ct).ConfigureAwait(false);
        Log.LogMessage(MessageImportance.High, "Wrote {0} to {1} (mask {2}).", Numbers.Hex(value), Numbers.Hex(address), Numbers.Hex(mask));
    }
}

/// <summary>dump_mem: a memory range into a file.</summary>
public sealed class EspDumpMem : EspConnectedTask
{
    [Required] public string Address { get; set; } = "";
    [Required] public string Size { get; set; } = "";
    [Required] public string OutputFile { get; set; } = "";
    [Output] public string? Md5 { get; private set; }

    protected override async Task RunAsync(EspSession session, CancellationToken ct)
    {
        uint address = ParseUInt(Address, nameof(Address));
        int size = checked((int)ParseUInt(Size, nameof(Size)));
        var data = await MemoryAccess.DumpAsync(session, address, size, CreateProgress(), ct).ConfigureAwait(false);
        var dir = Path.GetDirectoryName(Path.GetFullPath(OutputFile));
        if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
        await File.WriteAllBytesAsync(OutputFile, data, ct).ConfigureAwait(false);
        Md5 = FlashMd5.Of(data);
        Log.LogMessage(MessageImportance.High, "Dumped {0} bytes at {1} into {2}.", data.Length, Numbers.Hex(address), OutputFile);
    }
}

/// <summary>load_ram: places binary segments in RAM and jumps to the entry point (nothing is written to flash).</summary>
public sealed class EspLoadRam : EspConnectedTask
{
    /// <summary>An ESP application image (.bin) or Intel HEX holding one; its segments and entry point are used.</summary>
    public string? Image { get; set; }
    /// <summary>Or: raw segment files with Address metadata, with <see cref="Entry"/>.</summary>
    public ITaskItem[] Segments { get; set; } = [];
    /// <summary>Entry point for raw segments; 0 loads without jumping.</summary>
    public string Entry { get; set; } = "";

    [Output] public long BytesLoaded { get; private set; }

    protected override async Task RunAsync(EspSession session, CancellationToken ct)
    {
        IReadOnlyList<RamSegment> segments;
        uint entry;
        if (!string.IsNullOrEmpty(Image))
        {
            if (!File.Exists(Image))
                throw new EspException(EspErrorCode.FileNotFound, $"The image '{Image}' does not exist.");
            (segments, entry) = RamLoader.ParseProgram(File.ReadAllBytes(Image), session.Chip);
        }
        else if (Segments.Length > 0)
        {
            entry = ParseUInt(Entry, nameof(Entry));
            segments = ImageItems.Load(Segments, nameof(Segments)).Select(i => new RamSegment(i.Address, i.Data)).ToList();
        }
        else
        {
            throw new EspException(EspErrorCode.InvalidArgument, "EspLoadRam needs Image (an ESP image or Intel HEX) or Segments with Entry.");
        }
        await RamLoader.LoadAsync(session, segments, entry, CreateProgress(), ct).ConfigureAwait(false);
        BytesLoaded = segments.Sum(s => (long)s.Data.Length);
        Log.LogMessage(MessageImportance.High, "Loaded {0} bytes in {1} segment(s) into RAM{2}.", BytesLoaded, segments.Count,
            entry == 0 ? "" : $" and started it at {Numbers.Hex(entry)}");
    }
}

/// <summary>Chip identity: name, revision, MAC, flash id and size.</summary>
public sealed class EspChipInfo : EspConnectedTask
{
    [Output] public string? ChipKey { get; private set; }
    /// <summary>esptool's description, e.g. "ESP32-D0WD-V3 (revision v3.0)".</summary>
    [Output] public string? ChipDescription { get; private set; }
    /// <summary>e.g. v3.0</summary>
    [Output] public string? Revision { get; private set; }
    /// <summary>e.g. 24:0a:c4:01:02:03</summary>
    [Output] public string? Mac { get; private set; }
    /// <summary>Features, separated by ';'.</summary>
    [Output] public string? Features { get; private set; }
    [Output] public int CrystalMhz { get; private set; }
    /// <summary>JEDEC id as hex, e.g. 0x164020 (manufacturer in the low byte).</summary>
    [Output] public string? FlashId { get; private set; }
    [Output] public string? FlashManufacturer { get; private set; }
    [Output] public string? FlashDevice { get; private set; }
    /// <summary>e.g. 4MB</summary>
    [Output] public string? FlashSize { get; private set; }
    [Output] public long FlashSizeBytes { get; private set; }
    [Output] public bool StubRunning { get; private set; }
    [Output] public bool SecureDownloadMode { get; private set; }

    protected override async Task RunAsync(EspSession session, CancellationToken ct)
    {
        var info = await ChipInfo.ReadAsync(session, includeFlash: true, ct).ConfigureAwait(false);
        ChipKey = info.Chip;
        ChipDescription = info.Description;
        Revision = info.Revision is null ? null : info.RevisionText;
        Mac = info.Mac;
        Features = string.Join(';', info.Features);
        CrystalMhz = info.CrystalMhz ?? 0;
        StubRunning = info.StubRunning;
        SecureDownloadMode = session.SecureDownloadMode;
        if (info.Flash is { } id)
        {
            FlashId = $"0x{id.RawId:X6}";
            FlashManufacturer = $"0x{id.Manufacturer:X2}";
            FlashDevice = $"0x{id.Device:X4}";
            if (id.Size is { } size)
            {
                FlashSizeBytes = size;
                FlashSize = FlashIdentity.FormatSize(size);
            }
        }
        Log.LogMessage(MessageImportance.High, "Chip: {0}{1}, MAC {2}, flash id {3} ({4}){5}.", info.Description,
            Revision is null ? "" : $" revision {Revision}", Mac, FlashId ?? "unknown", FlashSize ?? "size unknown",
            SecureDownloadMode ? ", Secure Download Mode" : "");
    }
}
