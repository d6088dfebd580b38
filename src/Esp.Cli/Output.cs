using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Esp.Protocol.Loader;
using Spectre.Console;

namespace Esp.Cli;

/// <summary>
/// Where a command's words go. People get text (with colour and progress bars on a terminal, plain otherwise);
/// scripts that pass <c>--json</c> get exactly one JSON document on standard output and nothing else there.
/// </summary>
internal sealed class Output
{
    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private readonly TextWriter _out;
    private readonly TextWriter _err;
    private readonly IAnsiConsole? _console;
    private readonly object _gate = new();
    /// <summary>Starts every line of one board's output when several boards share the streams ("[COM3] ").</summary>
    private readonly string _prefix = "";

    public Output(TextWriter stdout, TextWriter stderr, bool json, bool terminal, bool color, int? width, TimeSpan? progressInterval = null)
    {
        ProgressInterval = progressInterval ?? TimeSpan.FromSeconds(5);
        _out = stdout;
        _err = stderr;
        Json = json;
        Terminal = terminal;
        Color = color;
        if (terminal && !json)
        {
            _console = AnsiConsole.Create(new AnsiConsoleSettings
            {
                Ansi = color ? AnsiSupport.Yes : AnsiSupport.No,
                ColorSystem = color ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
                Interactive = InteractionSupport.Yes,
                Out = new AnsiConsoleOutput(stdout),
            });
            if (width is { } w) _console.Profile.Width = w;
        }
    }

    /// <summary>
    /// The output of one board among several: every line starts with <paramref name="board"/> in brackets, lines of all
    /// boards share one lock (none is torn by another), and progress comes as lines, never bars.
    /// </summary>
    private Output(Output shared, string board)
    {
        _out = shared._out;
        _err = shared._err;
        _gate = shared._gate;
        _prefix = $"[{board}] ";
        Json = shared.Json;
        ProgressInterval = shared.ProgressInterval;
    }

    public Output ForBoard(string board) => new(this, board);

    public bool Json { get; }
    public bool Terminal { get; }
    public bool Color { get; }

    /// <summary>Whether progress bars are drawn (a terminal, not JSON).</summary>
    public bool ShowsProgress => _console is not null && ProgressEnabled;

    /// <summary>False after <c>--no-progress</c>: neither bars nor progress lines.</summary>
    public bool ProgressEnabled { get; set; } = true;

    /// <summary>Without a terminal, the longest time between two progress lines of a running operation.</summary>
    public TimeSpan ProgressInterval { get; }

    /// <summary>What long work got done so far (for the message after Ctrl+C or a failure).</summary>
    public EspProgress? LastProgress { get; private set; }

    /// <summary>Completed steps, in order (for the message after Ctrl+C).</summary>
    public List<string> Completed { get; } = [];

    /// <summary>A line for people, with Spectre markup (<c>[green]ok[/]</c>); dropped in JSON mode.</summary>
    public void Markup(string markup)
    {
        if (Json) return;
        lock (_gate)
        {
            if (Color && _console is not null) _console.MarkupLine(markup);
            else _out.WriteLine(_prefix + Spectre.Console.Markup.Remove(markup));
        }
    }

    /// <summary>A plain line for people; dropped in JSON mode.</summary>
    public void Line(string text = "")
    {
        if (Json) return;
        lock (_gate) _out.WriteLine(_prefix + text);
    }

    /// <summary>A status line from the engine ("Connecting…", "Chip is ESP32"); for people only.</summary>
    public void Status(string text) => Line(text);

    /// <summary>A warning: on stderr, so it never mixes with JSON.</summary>
    public void Warning(string text)
    {
        lock (_gate) _err.WriteLine($"{_prefix}warning: {text}");
    }

    /// <summary>
    /// A remark beside output that owns stdout (the monitor's chip text): on stderr, so stdout stays exactly the
    /// chip's; dropped in JSON mode.
    /// </summary>
    public void Aside(string text)
    {
        if (Json) return;
        lock (_gate) _err.WriteLine(_prefix + text);
    }

    /// <summary>Standard output itself, for a stream of text that is not lines of ours (the monitor's chip output).</summary>
    public TextWriter Stdout => _out;

    public void Trace(string text)
    {
        lock (_gate) _err.WriteLine(_prefix + text);
    }

    public void Error(string codeText, string message, string help)
    {
        lock (_gate)
        {
            _err.WriteLine($"{_prefix}error {codeText}: {message}");
            if (!string.IsNullOrWhiteSpace(help)) _err.WriteLine(_prefix + help);
        }
    }

    public void ErrorLine(string text)
    {
        lock (_gate) _err.WriteLine(_prefix + text);
    }

    public void WriteJson(JsonNode node)
    {
        lock (_gate) _out.WriteLine(node.ToJsonString(JsonOptions));
    }

    public void Flush()
    {
        lock (_gate)
        {
            _out.Flush();
            _err.Flush();
        }
    }

    /// <summary>
    /// Runs work that reports <see cref="EspProgress"/>: bars with bytes and speed on a terminal, otherwise a line at
    /// least every 10 % or <see cref="ProgressInterval"/> (<see cref="ProgressLines"/>). <paramref name="address"/> is
    /// where the work starts when it is one range of flash or memory.
    /// </summary>
    public async Task<T> WithProgressAsync<T>(string title, Func<IProgress<EspProgress>, Task<T>> work, uint? address = null)
    {
        if (_console is null || !ProgressEnabled)
        {
            if (Json || !ProgressEnabled) return await work(new Recorder(this, null, null)).ConfigureAwait(false);
            await using var lines = new ProgressLines(Line, address, ProgressInterval);
            return await work(new Recorder(this, null, lines)).ConfigureAwait(false);
        }

        T result = default!;
        await _console.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new DownloadedColumn(),
                new TransferSpeedColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .StartAsync(async ctx =>
            {
                var bars = new Bars(ctx, title);
                result = await work(new Recorder(this, bars, null)).ConfigureAwait(false);
                bars.CompleteAll();
            }).ConfigureAwait(false);
        return result;
    }

    private sealed class Bars(ProgressContext ctx, string title)
    {
        private readonly Dictionary<string, ProgressTask> _tasks = new(StringComparer.Ordinal);

        public void Report(EspProgress p)
        {
            lock (_tasks)
            {
                if (!_tasks.TryGetValue(p.Operation, out var task))
                {
                    var label = p.Operation == "write" || p.Operation == "read" || p.Operation == "erase" || p.Operation == "verify"
                        ? $"{title}: {p.Operation}" : $"{title}: {p.Operation}";
                    task = ctx.AddTask(Spectre.Console.Markup.Escape(label), maxValue: Math.Max(1, p.Total));
                    _tasks[p.Operation] = task;
                }
                task.MaxValue = Math.Max(1, p.Total);
                task.Value = Math.Min(p.Done, task.MaxValue);
                if (p.Detail is { } d) task.Description = Spectre.Console.Markup.Escape($"{title}: {p.Operation} ({d})");
                else task.Description = Spectre.Console.Markup.Escape($"{title}: {p.Operation}");
            }
        }

        public void CompleteAll()
        {
            lock (_tasks)
            {
                foreach (var t in _tasks.Values)
                {
                    t.Value = t.MaxValue;
                    t.StopTask();
                }
            }
        }
    }

    /// <summary>Reports synchronously (Progress&lt;T&gt; would post to the thread pool and arrive late).</summary>
    private sealed class Recorder(Output owner, Bars? bars, ProgressLines? lines) : IProgress<EspProgress>
    {
        public void Report(EspProgress value)
        {
            owner.LastProgress = value;
            bars?.Report(value);
            lines?.Report(value);
        }
    }

    /// <summary>A classic hex dump: offset, 16 bytes in two groups of 8, and the printable characters.</summary>
    public static string HexDump(ReadOnlySpan<byte> data, uint baseAddress)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < data.Length; i += 16)
        {
            int n = Math.Min(16, data.Length - i);
            sb.Append($"{baseAddress + (uint)i:x8}  ");
            for (int j = 0; j < 16; j++)
            {
                sb.Append(j < n ? $"{data[i + j]:x2} " : "   ");
                if (j == 7) sb.Append(' ');
            }
            sb.Append(" |");
            for (int j = 0; j < n; j++)
            {
                byte b = data[i + j];
                sb.Append(b is >= 0x20 and < 0x7F ? (char)b : '.');
            }
            sb.Append('|');
            if (i + 16 < data.Length) sb.Append('\n');
        }
        return sb.ToString();
    }
}
