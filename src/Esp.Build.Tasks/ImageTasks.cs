using System.Globalization;
using Esp.Protocol.Errors;
using Esp.Protocol.Images;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace Esp.Build.Tasks;

/// <summary>Writes a file only when its content changes, so incremental builds see an unchanged timestamp.</summary>
internal static class Files
{
    public static bool WriteIfChanged(string path, byte[] content)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
        if (File.Exists(path) && File.ReadAllBytes(path).AsSpan().SequenceEqual(content)) return false;
        File.WriteAllBytes(path, content);
        return true;
    }
}

/// <summary>
/// Composes a nanoFramework deployment image as nanoFramework builds it: the .pe files of the application and its
/// references, each padded to 4 bytes, concatenated. When the application's own .pe is missing (nanoFramework's
/// metadata processor does not run on this platform) it warns and composes what exists — it never invents a .pe.
/// </summary>
public sealed class EspComposeNanoFrameworkDeployment : EspTaskBase
{
    /// <summary>The application's .pe (may be missing: then a warning).</summary>
    public string? ApplicationPe { get; set; }

    /// <summary>The references' .pe files, in deployment order.</summary>
    public ITaskItem[] ReferencePe { get; set; } = [];

    [Required] public string OutputFile { get; set; } = "";

    [Output] public int ImageSize { get; private set; }
    /// <summary>The assemblies in image order with Offset, Length, PaddedLength metadata.</summary>
    [Output] public ITaskItem[] Assemblies { get; private set; } = [];
    [Output] public bool ApplicationIncluded { get; private set; }

    protected override Task RunAsync(CancellationToken ct)
    {
        var inputs = new List<(string Name, byte[] Pe)>();
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        if (NonEmpty(ApplicationPe) is { } app)
        {
            if (File.Exists(app))
            {
                inputs.Add((Path.GetFileName(app), File.ReadAllBytes(app)));
                seen.Add(Path.GetFileName(app));
                ApplicationIncluded = true;
            }
            else
            {
                LogEspWarning(EspErrorCode.AssemblyImageMissing,
                    $"The application's nanoFramework assembly '{app}' was not produced: nanoFramework's metadata processor (which turns the .dll into a .pe) is not available on this platform. " +
                    "Deploying only the referenced assemblies' .pe files; build on Windows with the nanoFramework tool chain (or use its .bin) to deploy the application itself.");
            }
        }
        foreach (var item in ReferencePe)
        {
            var path = item.GetMetadata("FullPath");
            if (string.IsNullOrEmpty(path)) path = item.ItemSpec;
            if (!seen.Add(Path.GetFileName(path))) continue;
            if (!File.Exists(path)) throw new EspException(EspErrorCode.FileNotFound, $"The nanoFramework assembly '{path}' does not exist.");
            inputs.Add((Path.GetFileName(path), File.ReadAllBytes(path)));
        }
        var deployment = NanoFrameworkDeployment.Build(inputs);
        bool changed = Files.WriteIfChanged(OutputFile, deployment.Image);
        ImageSize = deployment.TotalSize;
        Assemblies = deployment.Assemblies.Select(a =>
        {
            ITaskItem i = new TaskItem(a.Name);
            i.SetMetadata("Offset", a.Offset.ToString(CultureInfo.InvariantCulture));
            i.SetMetadata("Length", a.Length.ToString(CultureInfo.InvariantCulture));
            i.SetMetadata("PaddedLength", a.PaddedLength.ToString(CultureInfo.InvariantCulture));
            return i;
        }).ToArray();
        Log.LogMessage(MessageImportance.Normal, "nanoFramework deployment image {0}: {1} bytes from {2}{3}.", OutputFile, ImageSize,
            string.Join(", ", deployment.Assemblies.Select(a => $"{a.Name} ({a.Length})")), changed ? "" : " (unchanged)");
        return Task.CompletedTask;
    }
}

/// <summary>
/// Writes an ESP-IDF partition table binary (with its MD5 row). Without <see cref="Partitions"/> it writes
/// nanoFramework's 4 MB ESP32 layout (nvs, phy_init, factory app, deploy data partition 0x84).
/// </summary>
public sealed class EspMakePartitionTable : EspTaskBase
{
    [Required] public string OutputFile { get; set; } = "";

    /// <summary>ItemSpec = label; metadata Type (app/data/number), SubType (number or name), Offset, Size, Flags.</summary>
    public ITaskItem[] Partitions { get; set; } = [];

    protected override Task RunAsync(CancellationToken ct)
    {
        byte[] table;
        if (Partitions.Length == 0)
        {
            table = PartitionTable.BuildNanoFramework();
        }
        else
        {
            var entries = Partitions.Select(p => new PartitionEntry(p.ItemSpec, ParseType(p.GetMetadata("Type")), ParseSubType(p.GetMetadata("SubType")),
                Numbers.ParseUInt(p.GetMetadata("Offset"), $"Offset of partition '{p.ItemSpec}'"),
                Numbers.ParseUInt(p.GetMetadata("Size"), $"Size of partition '{p.ItemSpec}'"),
                string.IsNullOrWhiteSpace(p.GetMetadata("Flags")) ? 0 : Numbers.ParseUInt(p.GetMetadata("Flags"), "Flags"))).ToList();
            table = PartitionTable.Build(entries);
        }
        bool changed = Files.WriteIfChanged(OutputFile, table);
        Log.LogMessage(MessageImportance.Low, "Partition table {0}{1}.", OutputFile, changed ? "" : " (unchanged)");
        return Task.CompletedTask;
    }

    private static byte ParseType(string text) => text.Trim().ToLowerInvariant() switch
    {
        "app" => 0x00,
        "data" => 0x01,
        var s => (byte)Numbers.ParseUInt(s, "Type"),
    };

    private static byte ParseSubType(string text) => text.Trim().ToLowerInvariant() switch
    {
        "factory" => 0x00,
        "ota" => 0x00,
        "phy" => 0x01,
        "nvs" => 0x02,
        "coredump" => 0x03,
        "nvs_keys" => 0x04,
        "efuse" => 0x05,
        "undefined" => 0x06,
        "fat" => 0x81,
        "spiffs" => 0x82,
        "littlefs" => 0x83,
        "deploy" => 0x84,
        var s => (byte)Numbers.ParseUInt(s, "SubType"),
    };
}
