using System.Globalization;
using System.Text.Json.Nodes;
using Esp.Protocol.Errors;
using Esp.Protocol.Monitor;
using static Esp.Cli.CliCommand;

namespace Esp.Cli.Commands;

/// <summary>monitor: the chip's serial output on the terminal (or a log), until a text, a timeout, Ctrl+C or Ctrl+].</summary>
internal static class MonitorCommand
{
    /// <summary>The console baud rate of ESP-IDF, Arduino and nanoFramework applications (not the flashing default).</summary>
    public const int DefaultBaud = 115200;

    private const int TailLines = 20;

    public static CliCommand Create()
    {
        var noReset = Option<bool>("--no-reset", "Do not reset the chip into its application first (by default EN is pulsed with the boot strap released).");
        var timestamps = Option<bool>("--timestamps", "Start each line with the time it arrived.");
        var log = Option<string?>("--log", "Also write the bytes exactly as received to this file.");
        var until = Option<string?>("--until", "Stop with success (exit 0) as soon as a line contains this text.");
        var timeout = Option<string?>("--timeout", "Stop after this many seconds: a failure (exit 1) while --until waits, else the end of the capture.");
        var cmd = Define("monitor", $"Show what the chip prints on its serial port (at {DefaultBaud} Bd unless --baud); Ctrl+C or Ctrl+] quits.",
            noReset, timestamps, log, until, timeout);
        return new CliCommand
        {
            Name = "monitor",
            Usage = "[--no-reset] [--timestamps] [--log FILE] [--until TEXT] [--timeout SECONDS]",
            Command = cmd,
            Run = async ctx =>
            {
                var untilText = ctx.Value(until);
                if (untilText is { Length: 0 }) throw UsageException.Invalid("--until needs a text to wait for.");
                var limit = Seconds(ctx.Value(timeout));
                var logPath = ctx.Value(log) is { } l ? ctx.OutputFile(l) : null;
                var baudText = ctx.Value(ctx.Globals.Baud);
                int baud = baudText is null ? DefaultBaud : Numbers.ParseInt(baudText, "baud rate", 300, 20_000_000);
                var port = ctx.Settings.Port ?? ctx.ChooseDefaultPort();
                return await RunAsync(ctx, new MonitorOptions
                {
                    Port = port,
                    Baud = baud,
                    ResetIntoApp = !ctx.Value(noReset),
                    Until = untilText,
                    Timeout = limit,
                    Log = line => ctx.Output.Aside($"--- {line.TrimEnd('.')}; {(ctx.Host.ReadKey is null ? "Ctrl+C" : "Ctrl+C or Ctrl+]")} quits ---"),
                    Warning = ctx.Output.Warning,
                }, ctx.Value(timestamps), logPath).ConfigureAwait(false);
            },
        };
    }

    private static TimeSpan? Seconds(string? text)
    {
        if (text is null) return null;
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var s) || s <= 0 || s > 7 * 24 * 3600)
            throw UsageException.Invalid($"--timeout '{text}' is not a number of seconds greater than 0.");
        return TimeSpan.FromSeconds(s);
    }

    private static async Task<JsonObject> RunAsync(CliContext ctx, MonitorOptions options, bool timestamps, string? logPath)
    {
        var tail = new TailSink(TailLines);
        var sinks = new List<IMonitorSink> { tail };
        if (!ctx.Output.Json) sinks.Add(new TextWriterMonitorSink(ctx.Output.Stdout, timestamps));
        await using var logFile = logPath is null ? null : new FileStream(logPath, FileMode.Create, FileAccess.Write, FileShare.Read);
        if (logFile is not null) sinks.Add(new RawLogMonitorSink(logFile));

        // Ctrl+C cancels the command; Ctrl+] at a terminal quits the monitor the same way.
        using var quit = CancellationTokenSource.CreateLinkedTokenSource(ctx.CancellationToken);
        var keys = ctx.Host.ReadKey is { } readKey ? WatchQuitKeyAsync(readKey, quit) : Task.CompletedTask;
        MonitorResult result;
        try
        {
            result = await SerialMonitor.RunAsync(options, new CombinedMonitorSink([.. sinks]), quit.Token).ConfigureAwait(false);
        }
        finally
        {
            await quit.CancelAsync().ConfigureAwait(false);
            try { await keys.ConfigureAwait(false); } catch (OperationCanceledException) { }
        }

        var payload = new JsonObject
        {
            ["port"] = options.Port,
            ["baud"] = options.Baud,
            ["reset"] = result.ResetIntoApp,
            ["until"] = options.Until,
            ["timeoutSeconds"] = options.Timeout?.TotalSeconds,
            ["outcome"] = result.Outcome.ToString(),
            ["matched"] = result.Outcome == MonitorOutcome.Matched,
            ["matchedLine"] = result.MatchedLine,
            ["bytes"] = result.BytesReceived,
            ["lines"] = result.Lines,
            ["seconds"] = Math.Round(result.Elapsed.TotalSeconds, 3),
            ["log"] = logPath,
            ["tail"] = new JsonArray([.. tail.Lines.Select(line => (JsonNode?)JsonValue.Create(line))]),
        };
        if (result.Error is { } error) throw new CommandFailedException(error, payload);
        if (!result.Succeeded)
            throw new EspException(EspErrorCode.Cancelled, $"The monitor was stopped before '{options.Until}' appeared.");
        if (!ctx.Output.Json && result.Outcome == MonitorOutcome.Stopped) ctx.Output.Stdout.WriteLine();
        ctx.Output.Aside(result.Outcome switch
        {
            MonitorOutcome.Matched => $"--- found \"{options.Until}\" after {result.Elapsed.TotalSeconds:0.0} s ---",
            MonitorOutcome.TimedOut => $"--- {options.Timeout?.TotalSeconds:0.###} s are up ---",
            _ => "--- quit ---",
        });
        return payload;
    }

    private static async Task WatchQuitKeyAsync(Func<CancellationToken, Task<ConsoleKeyInfo>> readKey, CancellationTokenSource quit)
    {
        while (!quit.IsCancellationRequested)
        {
            if (TerminalKeys.IsQuit(await readKey(quit.Token).ConfigureAwait(false)))
            {
                await quit.CancelAsync().ConfigureAwait(false);
                return;
            }
        }
    }

    /// <summary>The last few complete lines, for the JSON summary.</summary>
    private sealed class TailSink(int keep) : IMonitorSink
    {
        private readonly Queue<string> _lines = new();
        private string _current = "";

        public IEnumerable<string> Lines => _current.Length > 0 ? [.. _lines, _current] : _lines;

        public void Text(MonitorText text)
        {
            _current = text.StartsLine ? text.Text : _current + text.Text;
            if (!text.EndsLine) return;
            _lines.Enqueue(_current);
            _current = "";
            while (_lines.Count > keep) _lines.Dequeue();
        }
    }
}
