using System.Collections.Concurrent;
using Esp.Protocol.Chips;
using Esp.Protocol.Loader;

namespace Esp.Protocol.Stubs;

/// <summary>
/// The flasher stubs shipped inside this assembly: Espressif's esp-flasher-stub (Apache-2.0 OR MIT) as published in
/// the npm package esptool-js, embedded at build time (Stubs/FlasherStubs.targets pins the version and its hash).
/// </summary>
public static class FlasherStubs
{
    /// <summary>Where the embedded stubs come from, for logs and notices.</summary>
    public const string Origin = "esp-flasher-stub, from the npm package esptool-js 0.7.0";

    private const string Prefix = "stubs/";
    private static readonly ConcurrentDictionary<string, StubImage> Cache = new();

    /// <summary>The embedded stub files (e.g. <c>esp32c3.json</c>).</summary>
    public static IReadOnlyList<string> FileNames { get; } =
        typeof(FlasherStubs).Assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith(Prefix, StringComparison.Ordinal) && n.EndsWith(".json", StringComparison.Ordinal))
            .Select(n => n[Prefix.Length..])
            .Order(StringComparer.Ordinal)
            .ToArray();

    /// <summary>The licence text that came with the stubs.</summary>
    public static string License => ReadText(Prefix + "LICENSE");

    /// <summary>
    /// The file that fits <paramref name="chip"/>: its key plus <c>.json</c>; ESP32-P4 chips before revision 3.0 need
    /// the <c>-rev1</c> build (null revision: the newer one). Null when no stub ships for the chip.
    /// </summary>
    public static string? FileNameFor(ChipDefinition chip, int? revision = null)
    {
        string name = chip.Key == "esp32p4" && revision is < 300 ? "esp32p4-rev1.json" : chip.Key + ".json";
        return FileNames.Contains(name) ? name : null;
    }

    /// <summary>The stub for <paramref name="chip"/>, or null when none ships for it.</summary>
    public static StubImage? For(ChipDefinition chip, int? revision = null) =>
        FileNameFor(chip, revision) is { } name ? Load(name) : null;

    /// <summary>One embedded stub by file name.</summary>
    public static StubImage Load(string fileName) =>
        Cache.GetOrAdd(fileName, n => StubImage.Parse(Json(n), $"{n} ({Origin})"));

    /// <summary>The JSON text of one embedded stub file, as published.</summary>
    public static string Json(string fileName) => ReadText(Prefix + fileName);

    private static string ReadText(string resource)
    {
        using var stream = typeof(FlasherStubs).Assembly.GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"The assembly has no embedded resource '{resource}'; it was built without the flasher stubs.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
