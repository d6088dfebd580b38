using System.Globalization;
using System.Text.Json;
using Esp.Protocol.Farm;

namespace Esp.Build.Tasks;

/// <summary>The JSON summary file: one record per board after a run on several boards.</summary>
internal static class BoardSummary
{
    /// <summary>Writes a new JSON file (its folder is created) with <paramref name="write"/>.</summary>
    public static void WriteFile(string path, Action<Utf8JsonWriter> write)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
        using var stream = File.Create(path);
        using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        write(w);
    }

    public static void Write(string path, IReadOnlyList<BoardResult<BoardReport>> results, TimeSpan elapsed) => WriteFile(path, w =>
    {
        w.WriteStartObject();
        w.WriteString("time", DateTimeOffset.UtcNow.ToString("o", CultureInfo.InvariantCulture));
        w.WriteNumber("elapsedMs", Math.Round(elapsed.TotalMilliseconds, 1));
        w.WriteNumber("boardCount", results.Count);
        w.WriteNumber("succeeded", results.Count(r => r.Succeeded));
        w.WriteNumber("failed", results.Count(r => r.Outcome == BoardOutcome.Failed));
        w.WriteStartArray("boards");
        foreach (var r in results)
        {
            w.WriteStartObject();
            w.WriteString("board", BoardTable.Name(r.Board));
            w.WriteString("port", r.UsedPort ?? r.Board.Port);
            w.WriteString("chip", r.ChipName);
            w.WriteString("mac", r.Mac);
            w.WriteString("outcome", JsonNamingPolicy.CamelCase.ConvertName(r.Outcome.ToString()));
            if (r.Value?.WriteJson is { } write)
            {
                write(w);
            }
            else
            {
                w.WriteNumber("elapsedMs", Math.Round(r.Elapsed.TotalMilliseconds, 1));
                w.WriteNumber("resumes", r.Resumes);
            }
            if (r.Error is { } e)
            {
                w.WriteStartObject("error");
                w.WriteString("code", e.CodeText);
                w.WriteString("message", e.Message);
                w.WriteString("help", e.Help);
                w.WriteEndObject();
            }
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    });
}
