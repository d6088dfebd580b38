using System.Text.Json;
using Esp.Protocol.Chips;

namespace Esp.Simulator.Link;

/// <summary>
/// Stub files for the virtual chip. No flasher stub binary is shipped; the virtual chip recognises a stub by where
/// its code is loaded and started, so a file in esptool's stub JSON format with placeholder code at the chip's real
/// stub addresses puts it in stub mode (tests, benchmarks, trying stub-mode commands on a <c>sim:</c> port).
/// </summary>
public static class StubFiles
{
    private static readonly Dictionary<string, string> Files = [];

    /// <summary>Path of a stub JSON for <paramref name="chip"/> (written once per process to the temp folder).</summary>
    public static string ForVirtualChip(ChipDefinition chip)
    {
        lock (Files)
        {
            if (Files.TryGetValue(chip.Key, out var path) && File.Exists(path)) return path;
            var loc = chip.StubFor("2") ?? throw new InvalidOperationException($"No stub location is known for {chip.Name}.");
            var rng = new Random((int)loc.Entry);
            var text = new byte[loc.TextEnd - loc.TextStart];
            rng.NextBytes(text);
            var data = new byte[256];
            rng.NextBytes(data);
            var json = JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["entry"] = loc.Entry,
                ["text"] = Convert.ToBase64String(text),
                ["text_start"] = loc.TextStart,
                ["data"] = Convert.ToBase64String(data),
                ["data_start"] = loc.DataEnd - (uint)data.Length,
                ["bss_start"] = loc.DataStart,
            });
            path = Path.Combine(Path.GetTempPath(), $"esp-build-virtual-stub-{chip.Key}-{Environment.ProcessId}.json");
            File.WriteAllText(path, json);
            Files[chip.Key] = path;
            return path;
        }
    }
}
