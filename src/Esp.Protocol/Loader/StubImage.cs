using System.Text.Json;
using Esp.Protocol.Errors;

namespace Esp.Protocol.Loader;

/// <summary>A flasher stub as esptool ships it: JSON with base64 text/data and their load addresses.</summary>
public sealed record StubImage(byte[] Text, uint TextStart, byte[] Data, uint DataStart, uint BssStart, uint Entry)
{
    /// <summary>RAM the stub occupies while running (text, and data from BSS start), end-exclusive.</summary>
    public IEnumerable<(uint Start, uint End)> OccupiedRanges()
    {
        yield return (TextStart, TextStart + (uint)Text.Length);
        uint dataLow = BssStart != 0 ? Math.Min(BssStart, DataStart) : DataStart;
        yield return (dataLow, DataStart + (uint)Data.Length);
    }

    public static StubImage Load(string path)
    {
        if (!File.Exists(path))
            throw new EspException(EspErrorCode.FileNotFound, $"Stub file '{path}' does not exist.");
        return Parse(File.ReadAllText(path), path);
    }

    public static StubImage Parse(string json, string source = "stub")
    {
        try
        {
            using var doc = JsonDocument.Parse(json);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw Bad(source, "the top level is not an object");
            byte[] text = Base64(root, "text", source, required: true);
            uint textStart = Number(root, "text_start", source, required: true);
            uint entry = Number(root, "entry", source, required: true);
            byte[] data = Base64(root, "data", source, required: false);
            uint dataStart = Number(root, "data_start", source, required: data.Length > 0);
            uint bssStart = Number(root, "bss_start", source, required: false);
            if (text.Length == 0) throw Bad(source, "'text' is empty");
            if (entry < textStart || entry >= textStart + (uint)text.Length)
                throw Bad(source, $"the entry point 0x{entry:X8} is outside the text at 0x{textStart:X8}..0x{textStart + (uint)text.Length:X8}");
            return new StubImage(text, textStart, data, dataStart, bssStart, entry);
        }
        catch (JsonException ex)
        {
            throw new EspException(EspErrorCode.InvalidStubFile, $"Stub file '{source}' is not valid JSON: {ex.Message}", inner: ex);
        }
    }

    private static byte[] Base64(JsonElement root, string name, string source, bool required)
    {
        if (!root.TryGetProperty(name, out var e))
            return required ? throw Bad(source, $"the field '{name}' is missing") : [];
        try
        {
            return Convert.FromBase64String(e.GetString() ?? "");
        }
        catch (Exception ex) when (ex is FormatException or InvalidOperationException)
        {
            throw Bad(source, $"the field '{name}' is not base64 text");
        }
    }

    private static uint Number(JsonElement root, string name, string source, bool required)
    {
        if (!root.TryGetProperty(name, out var e))
            return required ? throw Bad(source, $"the field '{name}' is missing") : 0u;
        if (e.ValueKind == JsonValueKind.Number && e.TryGetUInt32(out var v)) return v;
        throw Bad(source, $"the field '{name}' is not a 32-bit unsigned number");
    }

    private static EspException Bad(string source, string what) =>
        new(EspErrorCode.InvalidStubFile, $"Stub file '{source}' is not a valid stub: {what}.");
}
