using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Esp.Protocol.Errors;

namespace Esp.Protocol.Images;

/// <summary>One row of an ESP-IDF partition table.</summary>
/// <param name="Label">Name, at most 16 bytes of UTF-8.</param>
/// <param name="Type">0 = app, 1 = data, 0x40–0xFE = custom.</param>
/// <param name="SubType">Meaning depends on the type (app: 0 factory, 0x10+n ota_n; data: 0 ota, 1 phy, 2 nvs, 0x84 nanoFramework deploy, …).</param>
/// <param name="Offset">Flash offset.</param>
/// <param name="Size">Length in bytes.</param>
/// <param name="Flags">Bit 0 encrypted, bit 1 read-only.</param>
public sealed record PartitionEntry(string Label, byte Type, byte SubType, uint Offset, uint Size, uint Flags = 0)
{
    /// <summary>One past the last byte.</summary>
    public ulong End => (ulong)Offset + Size;
    /// <summary>Flag bit 0.</summary>
    public bool Encrypted => (Flags & 1) != 0;
    /// <summary>Flag bit 1.</summary>
    public bool ReadOnly => (Flags & 2) != 0;

    /// <inheritdoc />
    public override string ToString() =>
        $"{Label}: type 0x{Type:X2} subtype 0x{SubType:X2} at 0x{Offset:X} size 0x{Size:X}" + (Flags != 0 ? $" flags 0x{Flags:X}" : "");
}

/// <summary>
/// The ESP-IDF binary partition table: 32-byte rows (magic 0xAA 0x50, type, subtype, offset, size, 16-byte label,
/// flags), optionally followed by an MD5 row (0xEB 0xEB, 14 × 0xFF, MD5 of all preceding rows), ended by 0xFF fill.
/// </summary>
public sealed class PartitionTable
{
    /// <summary>Where ESP-IDF puts the table by default.</summary>
    public const uint DefaultOffset = 0x8000;
    /// <summary>Largest table (and the length <see cref="Build"/> pads to).</summary>
    public const int MaxLength = 0xC00;
    /// <summary>Length of one row.</summary>
    public const int EntryLength = 32;
    /// <summary>Type of application partitions.</summary>
    public const byte TypeApp = 0x00;
    /// <summary>Type of data partitions.</summary>
    public const byte TypeData = 0x01;
    /// <summary>Alignment ESP-IDF requires of app partition offsets.</summary>
    public const uint AppAlignment = 0x10000;
    /// <summary>Alignment ESP-IDF requires of other partition offsets.</summary>
    public const uint DataAlignment = 0x1000;

    private PartitionTable(IReadOnlyList<PartitionEntry> entries, bool hasMd5)
    {
        Entries = entries;
        HasMd5 = hasMd5;
    }

    /// <summary>The partitions in table order.</summary>
    public IReadOnlyList<PartitionEntry> Entries { get; }

    /// <summary>Whether the table carried an MD5 row (it was checked when parsing).</summary>
    public bool HasMd5 { get; }

    /// <summary>First partition of the given type (and subtype, when given), or null.</summary>
    public PartitionEntry? Find(byte type, byte? subType = null) =>
        Entries.FirstOrDefault(e => e.Type == type && (subType is null || e.SubType == subType));

    /// <summary>The partition with this label (exact match), or null.</summary>
    public PartitionEntry? FindByLabel(string label) => Entries.FirstOrDefault(e => e.Label == label);

    /// <summary>
    /// Reads a table (e.g. the 0xC00 bytes at 0x8000). Reading stops at the first all-0xFF row or the end of the data.
    /// </summary>
    /// <param name="data">The table bytes.</param>
    /// <param name="validate">Also check alignment, overlaps and duplicate labels (as ESP-IDF's generator does).</param>
    /// <exception cref="EspException">InvalidPartitionTable for a bad magic, a wrong MD5, or (with validation) bad entries.</exception>
    public static PartitionTable Parse(ReadOnlySpan<byte> data, bool validate = true)
    {
        var entries = new List<PartitionEntry>();
        bool hasMd5 = false;
        int limit = Math.Min(data.Length, MaxLength);
        int pos = 0;
        for (; pos + EntryLength <= limit; pos += EntryLength)
        {
            var row = data.Slice(pos, EntryLength);
            if (row.IndexOfAnyExcept((byte)0xFF) < 0) break;
            if (row[0] == 0xEB && row[1] == 0xEB && row[2..16].IndexOfAnyExcept((byte)0xFF) < 0)
            {
                var expected = MD5.HashData(data[..pos]);
                if (!row[16..].SequenceEqual(expected))
                    throw Bad($"The MD5 row at offset 0x{pos:X} holds {Convert.ToHexStringLower(row[16..])} but the {entries.Count} entries before it give {Convert.ToHexStringLower(expected)}.",
                        "The table is damaged; flash a freshly generated partition table.");
                hasMd5 = true;
                continue;
            }
            if (row[0] != 0xAA || row[1] != 0x50)
                throw Bad($"Row {pos / EntryLength} at offset 0x{pos:X} starts with 0x{row[0]:X2} 0x{row[1]:X2}; partition entries start with 0xAA 0x50.",
                    "This is not an ESP-IDF partition table (or it is not at this address); give the right address or flash a valid table.");
            var labelBytes = row.Slice(12, 16);
            int nul = labelBytes.IndexOf((byte)0);
            var label = Encoding.UTF8.GetString(nul < 0 ? labelBytes : labelBytes[..nul]);
            entries.Add(new PartitionEntry(label, row[2], row[3],
                BinaryPrimitives.ReadUInt32LittleEndian(row[4..]), BinaryPrimitives.ReadUInt32LittleEndian(row[8..]),
                BinaryPrimitives.ReadUInt32LittleEndian(row[28..])));
        }
        if (entries.Count == 0 && pos == 0 && data.Length < EntryLength)
            throw Bad($"The partition table data is only {data.Length} bytes long; one entry needs {EntryLength}.",
                "Read the whole table (0xC00 bytes at 0x8000).");
        if (validate) Validate(entries);
        return new PartitionTable(entries, hasMd5);
    }

    /// <summary>
    /// Produces a table binary: the entries, an MD5 row (unless <paramref name="withMd5"/> is false), 0xFF fill to 0xC00.
    /// </summary>
    /// <exception cref="EspException">InvalidPartitionTable for too many entries, long labels, bad alignment, overlaps or duplicate labels.</exception>
    /// <param name="entries">The partitions, in table order.</param>
    /// <param name="withMd5">Append the MD5 row (ESP-IDF's default).</param>
    /// <param name="tableOffset">Where the table will be flashed, so that no partition covers it; null skips that check.</param>
    public static byte[] Build(IEnumerable<PartitionEntry> entries, bool withMd5 = true, uint? tableOffset = DefaultOffset)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var list = entries.ToList();
        Validate(list, tableOffset);
        int needed = (list.Count + (withMd5 ? 1 : 0)) * EntryLength;
        if (needed > MaxLength - EntryLength)
            throw Bad($"{list.Count} partitions do not fit in a 0x{MaxLength:X}-byte table.", "Use fewer partitions.");
        var table = new byte[MaxLength];
        table.AsSpan().Fill(0xFF);
        int pos = 0;
        foreach (var e in list)
        {
            var row = table.AsSpan(pos, EntryLength);
            row[0] = 0xAA;
            row[1] = 0x50;
            row[2] = e.Type;
            row[3] = e.SubType;
            BinaryPrimitives.WriteUInt32LittleEndian(row[4..], e.Offset);
            BinaryPrimitives.WriteUInt32LittleEndian(row[8..], e.Size);
            row.Slice(12, 16).Clear();
            Encoding.UTF8.GetBytes(e.Label, row.Slice(12, 16));
            BinaryPrimitives.WriteUInt32LittleEndian(row[28..], e.Flags);
            pos += EntryLength;
        }
        if (withMd5)
        {
            var row = table.AsSpan(pos, EntryLength);
            row[0] = 0xEB;
            row[1] = 0xEB;
            MD5.HashData(table.AsSpan(0, pos), row[16..]);
        }
        return table;
    }

    /// <summary>
    /// A table in the shape nanoFramework's ESP32 targets use: nvs, phy_init, a factory app and the deploy partition
    /// (data, subtype 0x84). Defaults match nanoFramework's 4 MB ESP32 layout.
    /// </summary>
    public static byte[] BuildNanoFramework(uint appOffset = 0x10000, uint appSize = 0x1B0000,
        uint deployOffset = 0x1C0000, uint deploySize = 0x240000)
    {
        return Build(
        [
            new("nvs", TypeData, 0x02, 0x9000, 0x6000),
            new("phy_init", TypeData, 0x01, 0xF000, 0x1000),
            new("factory", TypeApp, 0x00, appOffset, appSize),
            new("deploy", TypeData, NanoFrameworkDeployment.DeployPartitionSubType, deployOffset, deploySize),
        ]);
    }

    /// <summary>Checks alignment, non-empty sizes, label lengths, duplicate labels, overlaps and (when
    /// <paramref name="tableOffset"/> is given) that no partition covers the 4 KiB table sector.</summary>
    /// <exception cref="EspException">InvalidPartitionTable naming the entries involved.</exception>
    public static void Validate(IReadOnlyList<PartitionEntry> entries, uint? tableOffset = null)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var labels = new HashSet<string>(StringComparer.Ordinal);
        foreach (var e in entries)
        {
            if (Encoding.UTF8.GetByteCount(e.Label) > 16)
                throw Bad($"Partition label '{e.Label}' is longer than 16 bytes.", "Shorten the label.");
            if (!labels.Add(e.Label))
                throw Bad($"Two partitions are labelled '{e.Label}'.", "Give each partition its own label.");
            if (e.Size == 0)
                throw Bad($"Partition '{e.Label}' has size 0.", "Give the partition a size.");
            uint align = e.Type == TypeApp ? AppAlignment : DataAlignment;
            if (e.Offset % align != 0)
                throw Bad($"Partition '{e.Label}' starts at 0x{e.Offset:X}, which is not a multiple of 0x{align:X}.",
                    $"{(e.Type == TypeApp ? "App" : "Data")} partitions must start on a 0x{align:X} boundary.");
            if (e.End > 0x1_0000_0000UL)
                throw Bad($"Partition '{e.Label}' (0x{e.Offset:X} + 0x{e.Size:X}) runs past 4 GiB.", "Fix the size.");
            if (tableOffset is { } t && e.Offset < (ulong)t + 0x1000 && e.End > t)
                throw Bad($"Partition '{e.Label}' (0x{e.Offset:X}–0x{e.End - 1:X}) overlaps the partition table at 0x{t:X}–0x{t + 0xFFF:X}.",
                    "Start partitions after the table's sector.");
        }
        var sorted = entries.OrderBy(e => e.Offset).ToList();
        for (int i = 1; i < sorted.Count; i++)
            if (sorted[i].Offset < sorted[i - 1].End)
                throw Bad($"Partition '{sorted[i].Label}' (0x{sorted[i].Offset:X}–0x{sorted[i].End - 1:X}) overlaps '{sorted[i - 1].Label}' (0x{sorted[i - 1].Offset:X}–0x{sorted[i - 1].End - 1:X}).",
                    "Move or shrink one of them.");
    }

    private static EspException Bad(string message, string help) => new(EspErrorCode.InvalidPartitionTable, message, help);
}
