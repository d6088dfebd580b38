using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Esp.Protocol.Farm;

namespace Esp.Cli;

/// <summary>
/// The end of a run on several boards: a table for people (one row per board: chip, MAC, result, bytes written,
/// resumes, time, error) or one JSON document with every board, each failed board named on stderr, and the exit code.
/// </summary>
internal static class MultiBoardReport
{
    /// <summary>Writes the report and returns the exit code: Ctrl+C's, else the first failed board's, else 0.</summary>
    public static int Write(CliContext ctx, IReadOnlyList<MultiBoard.BoardRun> runs, int compressedImages)
    {
        bool cancelled = ctx.CancellationToken.IsCancellationRequested;
        var firstFailure = runs.FirstOrDefault(r => r.Outcome == BoardOutcome.Failed)?.Error;
        int exitCode = cancelled ? ExitCodes.Cancelled : firstFailure is null ? ExitCodes.Ok : Program.ExitCodeFor(firstFailure);
        var rows = runs.Select(Row.Of).ToList();
        string counts = Counts(runs);


        if (ctx.Output.Json)
        {
            var doc = new JsonObject
            {
                ["command"] = ctx.Command.Name,
                ["ok"] = exitCode == ExitCodes.Ok,
                ["exitCode"] = exitCode,
                ["boards"] = new JsonArray([.. runs.Zip(rows, BoardJson)]),
                ["succeeded"] = Count(runs, BoardOutcome.Succeeded),
                ["failed"] = Count(runs, BoardOutcome.Failed),
                ["cancelled"] = Count(runs, BoardOutcome.Cancelled),
                ["notStarted"] = Count(runs, BoardOutcome.NotStarted),
                ["compressedImages"] = compressedImages,
            };
            ctx.Output.WriteJson(doc);
        }
        else
        {
            ctx.Output.Line();
            foreach (var line in Table(rows)) ctx.Output.Line(line);
            ctx.Output.Line($"{runs.Count} boards: {counts}.");
        }
        foreach (var run in runs.Where(r => r.Outcome == BoardOutcome.Failed))
            run.Output!.Error(run.Error!.CodeText, run.Error.Message, run.Error.Help);
        if (cancelled) ctx.Output.ErrorLine($"cancelled: {counts}.");
        return exitCode;
    }

    /// <summary>One board's facts, as the table and the JSON show them.</summary>
    private sealed record Row(string Port, string? Chip, string? ChipName, string? Mac, BoardOutcome Outcome, long? Written, int Resumes, TimeSpan Elapsed,
        string? Error)
    {
        public static Row Of(MultiBoard.BoardRun run)
        {
            var p = run.Payload;
            var connected = run.Context?.Connected;
            return new Row(run.Board.Port,
                Text(p, "chip") ?? connected?.Chip,
                Text(p, "chipName") ?? connected?.ChipName,
                Text(p, "mac") ?? connected?.Mac,
                run.Outcome,
                BytesWritten(p),
                p?["resumes"]?.GetValue<int>() ?? connected?.Resumes ?? 0,
                run.Elapsed,
                run.Outcome == BoardOutcome.Failed && run.Error is { } e ? $"{e.CodeText} {e.Message}" : null);
        }

        private static string? Text(JsonObject? payload, string key) => payload?[key] is JsonValue v && v.TryGetValue(out string? s) ? s : null;

        /// <summary>The bytes a write_flash sent to flash: a skipped or resumed file counts only what it rewrote.</summary>
        private static long? BytesWritten(JsonObject? payload)
        {
            if (payload?["files"] is not JsonArray files || files.Count == 0 || files[0]?["wireBytes"] is null && files[0]?["rewrittenBytes"] is null) return null;
            return files.OfType<JsonObject>().Sum(f => (f["rewrittenBytes"] ?? f["size"]) is { } n ? long.Parse(n.ToJsonString(), CultureInfo.InvariantCulture) : 0);
        }
    }

    private static JsonNode BoardJson(MultiBoard.BoardRun run, Row row)
    {
        var board = new JsonObject
        {
            ["port"] = row.Port,
            ["chip"] = row.Chip,
            ["chipName"] = row.ChipName,
            ["mac"] = row.Mac,
            ["outcome"] = JsonNamingOf(row.Outcome),
            ["elapsedMs"] = (long)row.Elapsed.TotalMilliseconds,
            ["resumes"] = row.Resumes,
        };
        if (row.Written is { } written) board["bytesWritten"] = written;
        foreach (var (key, value) in run.Payload?.ToList() ?? [])
        {
            if (board.ContainsKey(key))
            {
                // The port actually used differs from the listed one only after the board re-enumerated.
                if (key == "port" && value?.GetValue<string>() != row.Port) board["usedPort"] = value?.DeepClone();
                continue;
            }
            board[key] = value?.DeepClone();
        }
        if (run.Outcome is BoardOutcome.Failed or BoardOutcome.Cancelled && run.Error is { } e)
            board["error"] = new JsonObject { ["code"] = e.CodeText, ["name"] = e.Code.ToString(), ["message"] = e.Message, ["help"] = e.Help };
        return board;
    }

    private static string JsonNamingOf(BoardOutcome outcome) => outcome switch
    {
        BoardOutcome.Succeeded => "succeeded",
        BoardOutcome.Failed => "failed",
        BoardOutcome.Cancelled => "cancelled",
        _ => "notStarted",
    };

    private static string Result(BoardOutcome outcome) => outcome switch
    {
        BoardOutcome.Succeeded => "ok",
        BoardOutcome.Failed => "failed",
        BoardOutcome.Cancelled => "cancelled",
        _ => "not started",
    };

    private static int Count(IEnumerable<MultiBoard.BoardRun> runs, BoardOutcome outcome) => runs.Count(r => r.Outcome == outcome);

    private static string Counts(IReadOnlyList<MultiBoard.BoardRun> runs)
    {
        var parts = new List<string> { $"{Count(runs, BoardOutcome.Succeeded)} ok" };
        if (Count(runs, BoardOutcome.Failed) is > 0 and var failed) parts.Add($"{failed} failed");
        if (Count(runs, BoardOutcome.Cancelled) is > 0 and var cancelled) parts.Add($"{cancelled} cancelled");
        if (Count(runs, BoardOutcome.NotStarted) is > 0 and var notStarted) parts.Add($"{notStarted} not started");
        return string.Join(", ", parts);
    }

    /// <summary>Plain aligned columns: readable in a CI log as on a terminal.</summary>
    private static IEnumerable<string> Table(IReadOnlyList<Row> rows)
    {
        string[] header = ["board", "chip", "MAC", "result", "written", "resumes", "time", "error"];
        var cells = rows.Select(r => new[]
        {
            r.Port,
            r.ChipName ?? "-",
            r.Mac ?? "-",
            Result(r.Outcome),
            r.Written is { } w ? w.ToString(CultureInfo.InvariantCulture) : "-",
            r.Resumes.ToString(CultureInfo.InvariantCulture),
            r.Elapsed.TotalSeconds.ToString("0.0 s", CultureInfo.InvariantCulture),
            r.Error ?? "",
        }).ToList();
        var widths = header.Select((h, i) => cells.Select(c => c[i].Length).Append(h.Length).Max()).ToArray();
        string Format(string[] line)
        {
            var sb = new StringBuilder();
            for (int i = 0; i < line.Length; i++)
            {
                if (i > 0) sb.Append("  ");
                // Numbers are right-aligned; the last column is not padded.
                sb.Append(i is 4 or 5 or 6 ? line[i].PadLeft(widths[i]) : i == line.Length - 1 ? line[i] : line[i].PadRight(widths[i]));
            }
            return sb.ToString().TrimEnd();
        }
        yield return Format(header);
        foreach (var c in cells) yield return Format(c);
    }
}
