using System.Text;
using Esp.Protocol.Errors;

namespace Esp.Protocol.Images;

/// <summary>
/// A nanoFramework deployment image: the application's and its references' <c>.pe</c> files, each zero-padded to a
/// multiple of 4 bytes and concatenated in the given order (what nanoFramework's build writes as <c>&lt;App&gt;.bin</c>).
/// </summary>
/// <remarks>
/// Every <c>.pe</c> starts with an ASCII marker <c>NFMRK</c> followed by a version digit. The
/// nanoFramework.CoreLibrary 1.17.11 package's <c>mscorlib.pe</c> starts with <c>NFMRK1</c>; the CLR loader notes
/// mention <c>NFMRK2</c> for newer tool chains and say the loader aborts on a marker it does not expect. Both
/// versions are accepted here, but not mixed in one deployment. The CLR stops reading at an erased word, so the
/// word after the image must read 0xFFFFFFFF: see <see cref="CheckFits(uint)"/>.
/// </remarks>
public sealed class NanoFrameworkDeployment
{
    /// <summary>Subtype of the data partition nanoFramework deploys to ("deploy").</summary>
    public const byte DeployPartitionSubType = 0x84;
    /// <summary>Bytes after the image that must be erased so the CLR stops reading there.</summary>
    public const int TerminatorLength = 4;
    /// <summary>Markers accepted at the start of a .pe file.</summary>
    public static IReadOnlyList<string> KnownMarkers { get; } = ["NFMRK1", "NFMRK2"];

    private NanoFrameworkDeployment(byte[] image, IReadOnlyList<Assembly> assemblies)
    {
        Image = image;
        Assemblies = assemblies;
    }

    /// <summary>Where one .pe file sits in the image.</summary>
    /// <param name="Name">The name given to <see cref="Build"/>.</param>
    /// <param name="Offset">Offset in <see cref="Image"/>.</param>
    /// <param name="Length">Length of the .pe file.</param>
    /// <param name="PaddedLength">Length including the zero padding.</param>
    /// <param name="Marker">The marker it starts with, e.g. NFMRK1.</param>
    public sealed record Assembly(string Name, int Offset, int Length, int PaddedLength, string Marker);

    /// <summary>The concatenated, padded .pe files.</summary>
    public byte[] Image { get; }

    /// <summary>The assemblies in image order.</summary>
    public IReadOnlyList<Assembly> Assemblies { get; }

    /// <summary>Image length in bytes (a multiple of 4).</summary>
    public int TotalSize => Image.Length;

    /// <summary>Smallest partition that holds the image and its erased terminator word.</summary>
    public long RequiredPartitionSize => (long)TotalSize + TerminatorLength;

    /// <summary>Builds the image from (name, .pe bytes) pairs in the order given.</summary>
    /// <exception cref="EspException">InvalidImage for an empty list, an empty or unmarked .pe, or mixed marker versions; FileTooLarge past 2 GiB.</exception>
    public static NanoFrameworkDeployment Build(IEnumerable<(string Name, byte[] Pe)> assemblies)
    {
        ArgumentNullException.ThrowIfNull(assemblies);
        var list = assemblies.ToList();
        if (list.Count == 0)
            throw EspImage.Invalid("No .pe files were given for the nanoFramework deployment.",
                "Give the application's .pe file and those of every referenced assembly (mscorlib.pe first).");
        long total = 0;
        string? marker = null;
        var layout = new List<Assembly>(list.Count);
        foreach (var (name, pe) in list)
        {
            if (pe is null || pe.Length == 0)
                throw EspImage.Invalid($"'{name}' is empty.", "Rebuild the project so that every .pe file is produced.");
            var m = MarkerOf(pe);
            if (m is null)
                throw EspImage.Invalid(
                    $"'{name}' does not start with a nanoFramework marker (expected {string.Join(" or ", KnownMarkers)}, found {Describe(pe)}).",
                    "Give the .pe files produced by the nanoFramework build (not the .dll or .exe).");
            if (marker is not null && m != marker)
                throw EspImage.Invalid($"'{name}' starts with {m} but earlier assemblies start with {marker}; the CLR stops at the first marker it does not expect.",
                    "Build all assemblies with the same nanoFramework tool chain version.");
            marker = m;
            int padded = (pe.Length + 3) & ~3;
            layout.Add(new Assembly(name, (int)total, pe.Length, padded, m));
            total += padded;
            if (total > int.MaxValue)
                throw new EspException(EspErrorCode.FileTooLarge, "The deployment image would exceed 2 GiB.", "Deploy fewer or smaller assemblies.");
        }
        var image = new byte[total];
        for (int i = 0; i < list.Count; i++) list[i].Pe.CopyTo(image, layout[i].Offset);
        return new NanoFrameworkDeployment(image, layout);
    }

    /// <summary>The marker a .pe file starts with (e.g. "NFMRK1"), or null when it has none of <see cref="KnownMarkers"/>.</summary>
    public static string? MarkerOf(ReadOnlySpan<byte> pe)
    {
        foreach (var m in KnownMarkers)
            if (pe.StartsWith(Encoding.ASCII.GetBytes(m))) return m;
        return null;
    }

    private static string Describe(byte[] pe)
    {
        var head = pe.AsSpan(0, Math.Min(6, pe.Length));
        return Convert.ToHexString(head) is var hex && head.IndexOfAnyExceptInRange((byte)0x20, (byte)0x7E) < 0
            ? $"\"{Encoding.ASCII.GetString(head)}\""
            : $"bytes {hex}";
    }

    /// <summary>True when a partition of <paramref name="partitionSize"/> bytes holds the image plus the erased terminator word.</summary>
    public bool Fits(uint partitionSize) => RequiredPartitionSize <= partitionSize;

    /// <summary>Throws unless the partition holds the image plus the 4-byte erased terminator.</summary>
    /// <exception cref="EspException">ImageTooLargeForPartition with both sizes.</exception>
    public void CheckFits(uint partitionSize)
    {
        if (!Fits(partitionSize))
            throw new EspException(EspErrorCode.ImageTooLargeForPartition,
                $"The deployment image is {TotalSize} bytes (0x{TotalSize:X}); with the erased end marker it needs 0x{RequiredPartitionSize:X} bytes but the partition has 0x{partitionSize:X}.");
    }

    /// <summary>Checks against a partition table entry (which should be data / subtype 0x84).</summary>
    /// <exception cref="EspException">ImageTooLargeForPartition, or NoDeployPartition when the entry is not a deploy partition.</exception>
    public void CheckFits(PartitionEntry partition)
    {
        ArgumentNullException.ThrowIfNull(partition);
        if (partition.Type != PartitionTable.TypeData || partition.SubType != DeployPartitionSubType)
            throw new EspException(EspErrorCode.NoDeployPartition,
                $"Partition '{partition.Label}' is type 0x{partition.Type:X2} subtype 0x{partition.SubType:X2}, not a nanoFramework deploy partition (data, 0x84).");
        CheckFits(partition.Size);
    }
}
