using System.Globalization;
using Esp.Protocol.Farm;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace Esp.Build.Tasks;

/// <summary>The results of a run on several boards as a table for the log and as one MSBuild item per board.</summary>
internal static class BoardTable
{
    /// <summary>The board's label, else its port; a virtual chip by its chip and state file, not the whole URI.</summary>
    public static string Name(Board board)
    {
        if (board.Label is { } label) return label;
        var port = board.Port;
        if (!port.StartsWith("sim:", StringComparison.OrdinalIgnoreCase) || port.IndexOf('?') is not (var q and > 0)) return port;
        var state = port[(q + 1)..].Split('&').Select(p => p.Split('=', 2)).FirstOrDefault(p => p.Length == 2 && p[0] == "state")?[1];
        return state is null ? port : $"{port[..q]} ({Path.GetFileName(Uri.UnescapeDataString(state))})";
    }

    public static IEnumerable<string> Lines(IReadOnlyList<BoardResult<BoardReport>> results, TimeSpan elapsed)
    {
        int ok = results.Count(r => r.Succeeded), failed = results.Count(r => r.Outcome == BoardOutcome.Failed);
        int unchanged = results.Count(r => r.Succeeded && r.Value!.BytesWritten == 0);
        string others = results.Count - ok - failed is var rest and > 0 ? $", {rest} cancelled or not started" : "";
        yield return $"Esp.Build on {results.Count} boards: {ok} succeeded{(unchanged > 0 ? $" ({unchanged} unchanged)" : "")}, {failed} failed{others}, {elapsed.TotalSeconds:0.00} s.";
        string[] header = ["board", "chip", "MAC", "result", "written", "verified", "resumes", "time", "error"];
        var rows = results.Select(r => new[]
        {
            Name(r.Board),
            r.ChipName ?? "-",
            r.Mac ?? "-",
            r.Succeeded ? r.Value!.Result : r.Outcome switch { BoardOutcome.Failed => "FAILED", BoardOutcome.Cancelled => "cancelled", _ => "not started" },
            r.Value is { } v ? v.BytesWritten.ToString(CultureInfo.InvariantCulture) : "-",
            r.Value is { } w ? (w.Verified ? "yes" : "no") : "-",
            r.Resumes.ToString(CultureInfo.InvariantCulture),
            $"{r.Elapsed.TotalSeconds:0.00} s",
            r.Error is { } e && r.Outcome is BoardOutcome.Failed or BoardOutcome.Cancelled ? $"{e.CodeText} {e.Message}" : "",
        }).ToList();
        var widths = header.Select((h, i) => rows.Select(row => row[i].Length).Prepend(h.Length).Max()).ToArray();
        string Row(string[] cells) => "  " + string.Join("  ", cells.Select((c, i) => i == cells.Length - 1 ? c : c.PadRight(widths[i]))).TrimEnd();
        yield return Row(header);
        foreach (var row in rows) yield return Row(row);
    }

    public static ITaskItem Item(BoardResult<BoardReport> r)
    {
        var item = new TaskItem(Name(r.Board));
        item.SetMetadata("Port", r.UsedPort ?? r.Board.Port);
        item.SetMetadata("Chip", r.ChipName ?? "");
        item.SetMetadata("Mac", r.Mac ?? "");
        item.SetMetadata("Outcome", r.Outcome.ToString());
        item.SetMetadata("Result", r.Value?.Result ?? "");
        item.SetMetadata("BytesWritten", r.Value?.BytesWritten.ToString(CultureInfo.InvariantCulture) ?? "0");
        item.SetMetadata("Verified", r.Value is { Verified: true } ? "true" : "false");
        item.SetMetadata("Resumes", r.Resumes.ToString(CultureInfo.InvariantCulture));
        item.SetMetadata("ElapsedMs", Math.Round(r.Elapsed.TotalMilliseconds).ToString(CultureInfo.InvariantCulture));
        item.SetMetadata("ErrorCode", r.Error?.CodeText ?? "");
        item.SetMetadata("Error", r.Error?.Message ?? "");
        if (r.Value is { } v)
            foreach (var (key, value) in v.Metadata) item.SetMetadata(key, value);
        return item;
    }
}
