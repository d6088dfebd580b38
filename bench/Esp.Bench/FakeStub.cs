using System.Text.Json;
using Esp.Protocol.Chips;

namespace Esp.Bench;

/// <summary>
/// A stub file shaped like esptool's, with meaningless code bytes at the chip's real stub addresses (the same idea
/// as the engine tests' SimFixture): we ship no stub binary; the virtual chip recognises a stub by where it is
/// loaded and started.
/// </summary>
public static class FakeStub
{
    public static string FileFor(ChipDefinition chip)
    {
        var loc = chip.StubFor("2") ?? throw new InvalidOperationException($"No stub location for {chip.Name}.");
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
        var path = Path.Combine(Path.GetTempPath(), $"esp-bench-stub-{chip.Key}-{Environment.ProcessId}.json");
        File.WriteAllText(path, json);
        return path;
    }
}
