using System.Text.Json;

namespace Esp.Protocol.Tests.Replay;

/// <summary>One packet of a golden trace (tests/Traces): who sent it and its unescaped bytes.</summary>
public sealed record TraceEntry(int Line, bool FromHost, byte[]? Packet, string? Raw, int? TruncatedFrom, bool Elided, string Note)
{
    public bool IsFrame => Packet is not null;
}

public static class Trace
{
    public static IReadOnlyList<TraceEntry> Load(string relativePath)
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Traces", relativePath);
        var entries = new List<TraceEntry>();
        int line = 0;
        foreach (var text in File.ReadLines(path))
        {
            line++;
            if (string.IsNullOrWhiteSpace(text)) continue;
            using var doc = JsonDocument.Parse(text);
            var r = doc.RootElement;
            bool fromHost = r.GetProperty("from").GetString() == "host";
            byte[]? packet = r.TryGetProperty("hex", out var h) ? Convert.FromHexString(h.GetString()!) : null;
            string? raw = r.TryGetProperty("raw", out var rw) ? rw.GetString() : null;
            int? truncated = r.TryGetProperty("truncated_from", out var t) ? t.GetInt32() : null;
            bool elided = r.TryGetProperty("elided", out var e) && e.ValueKind == JsonValueKind.True;
            string note = r.TryGetProperty("note", out var n) ? n.GetString() ?? "" : "";
            entries.Add(new TraceEntry(line, fromHost, packet, raw, truncated, elided, note));
        }
        return entries;
    }

    /// <summary>Index of the first entry at or after <paramref name="from"/> whose note starts with <paramref name="prefix"/>.</summary>
    public static int Find(IReadOnlyList<TraceEntry> trace, string prefix, int from = 0, bool? fromHost = true)
    {
        for (int i = from; i < trace.Count; i++)
            if ((fromHost is null || trace[i].FromHost == fromHost) && trace[i].Note.StartsWith(prefix, StringComparison.Ordinal))
                return i;
        throw new InvalidOperationException($"No trace entry with a note starting '{prefix}' after {from}.");
    }

    /// <summary>The test pattern of the traces: 0..255 × 8 with two 16-byte labels.</summary>
    public static byte[] Pattern2k()
    {
        var p = new byte[2048];
        for (int i = 0; i < p.Length; i++) p[i] = (byte)i;
        "GOLDEN-PATTERN-1"u8.CopyTo(p);
        "GOLDEN-PATTERN-2"u8.CopyTo(p.AsSpan(0x400));
        return p;
    }
}
