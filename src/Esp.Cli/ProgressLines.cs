using System.Diagnostics;
using System.Globalization;
using Esp.Protocol.Loader;

namespace Esp.Cli;

/// <summary>
/// Progress as lines, for output that is not a terminal (CI logs, files): a line whenever another 10 % is done and,
/// while an operation runs, at least every <see cref="Interval"/>, e.g.
/// <c>Writing at 0x00010000... (40 %, 160 KiB of 400 KiB, 42.1 KiB/s)</c>.
/// </summary>
internal sealed class ProgressLines : IAsyncDisposable
{
    /// <summary>Operations whose progress counts bytes, and the verb their lines start with.</summary>
    private static readonly Dictionary<string, string> Verbs = new(StringComparer.Ordinal)
    {
        ["write"] = "Writing",
        ["read"] = "Reading",
        ["erase"] = "Erasing",
        ["verify"] = "Verifying",
        ["load_ram"] = "Loading",
        ["dump"] = "Dumping",
    };

    private readonly Action<string> _write;
    private readonly uint? _address;
    private readonly Lock _gate = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _ticker;
    private Running? _current;

    /// <param name="address">Where the operation starts in flash or memory (shown as "at 0x…"), if it is one range.</param>
    public ProgressLines(Action<string> write, uint? address, TimeSpan interval)
    {
        _write = write;
        _address = address;
        Interval = interval;
        _ticker = interval > TimeSpan.Zero ? TickAsync() : Task.CompletedTask;
    }

    public TimeSpan Interval { get; }

    /// <summary>The state of the operation being reported.</summary>
    private sealed class Running(string operation, string verb)
    {
        public string Operation { get; } = operation;
        public string Verb { get; } = verb;
        public Stopwatch Clock { get; } = Stopwatch.StartNew();
        public EspProgress Last { get; set; }
        public int PrintedTenths { get; set; } = -1;
        public TimeSpan PrintedAt { get; set; }
    }

    public void Report(EspProgress p)
    {
        if (!Verbs.TryGetValue(p.Operation, out var verb)) return;
        lock (_gate)
        {
            if (_current is null || _current.Operation != p.Operation || p.Done < _current.Last.Done)
                _current = new Running(p.Operation, verb);
            var run = _current;
            run.Last = p;
            int tenths = (int)Math.Floor(p.Fraction * 10);
            if (tenths > run.PrintedTenths || run.Clock.Elapsed - run.PrintedAt >= Interval) Print(run);
        }
    }

    private void Print(Running run)
    {
        run.PrintedTenths = (int)Math.Floor(run.Last.Fraction * 10);
        run.PrintedAt = run.Clock.Elapsed;
        _write(Format(run.Verb, _address, run.Last, run.Clock.Elapsed));
    }

    /// <summary>One progress line; the speed is left out until there is time to measure it over.</summary>
    public static string Format(string verb, uint? address, EspProgress p, TimeSpan elapsed)
    {
        var at = address is { } a ? string.Create(CultureInfo.InvariantCulture, $" at 0x{a + (uint)Math.Min(p.Done, uint.MaxValue - a):x8}") : "";
        var speed = elapsed.TotalSeconds >= 0.05 && p.Done > 0 ? ", " + Size(p.Done / elapsed.TotalSeconds, speed: true) : "";
        return string.Create(CultureInfo.InvariantCulture,
            $"{verb}{at}... ({(int)Math.Floor(p.Fraction * 100)} %, {Size(p.Done)} of {Size(p.Total)}{speed})");
    }

    /// <summary>512 B, 160 KiB, 1.5 MiB; speeds with one decimal (42.1 KiB/s).</summary>
    public static string Size(double bytes, bool speed = false) => (bytes, speed) switch
    {
        ( < 1024, false) => Invariant($"{bytes:0} B"),
        ( < 1024 * 1024, false) => Invariant($"{bytes / 1024:0.#} KiB"),
        ( < 1024 * 1024, true) => Invariant($"{bytes / 1024:0.0} KiB/s"),
        (_, false) => Invariant($"{bytes / (1024 * 1024):0.##} MiB"),
        (_, true) => Invariant($"{bytes / (1024 * 1024):0.00} MiB/s"),
    };

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    /// <summary>A long step that reports nothing (an erase, an MD5 of megabytes) still gets a line every interval.</summary>
    private async Task TickAsync()
    {
        using var timer = new PeriodicTimer(Interval);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false))
            {
                lock (_gate)
                {
                    if (_current is { } run && run.Last.Done < run.Last.Total && run.Clock.Elapsed - run.PrintedAt >= Interval) Print(run);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _ticker.ConfigureAwait(false);
        _stop.Dispose();
    }
}
