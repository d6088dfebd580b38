using System.Globalization;
using Esp.Protocol.Loader;
using Microsoft.Build.Framework;

namespace Esp.Build.Tasks;

/// <summary>
/// The engine's progress as MSBuild messages. Operations on bytes get a line at normal importance (<c>-v:n</c>) about
/// every <c>step</c> of their way: the percentage, the bytes done of the total and, for transfers over the link
/// (write, read, dump, load_ram), the speed. Planning counts images, not bytes: it is told in its own words at low
/// importance (<c>-v:d</c>); the plan and the summary lines that follow it say what it found.
/// </summary>
internal sealed class ProgressLog(Action<MessageImportance, string> log, Func<TimeSpan> clock, double step = 0.1) : IProgress<EspProgress>
{
    private static readonly HashSet<string> Transfers = ["write", "read", "dump", "load_ram"];

    private readonly Lock _lock = new();
    private string? _operation;
    private long _lastDone = -1;
    private double _next;
    private TimeSpan _started;
    private long _startDone;

    public void Report(EspProgress value)
    {
        lock (_lock)
        {
            if (value.Operation == "plan")
            {
                ReportPlan(value);
                return;
            }
            // A new operation, or the same one starting over (the next image, a resume).
            if (value.Operation != _operation || value.Done < _lastDone || value.Done == 0)
            {
                _operation = value.Operation;
                _next = step;
                _started = clock();
                _startDone = value.Done;
            }
            _lastDone = value.Done;
            if (value.Done == 0) return;
            double fraction = value.Fraction;
            if (fraction + 1e-9 < _next && value.Done < value.Total) return;
            while (_next <= fraction + 1e-9) _next += step;
            log(MessageImportance.Normal, Line(value));
        }
    }

    private void ReportPlan(EspProgress value)
    {
        if (value.Done < value.Total && value.Detail is { } image)
            log(MessageImportance.Low, $"  plan: comparing {image} with the chip's MD5 (image {value.Done + 1} of {value.Total})");
    }

    private string Line(EspProgress value)
    {
        var text = string.Create(CultureInfo.InvariantCulture,
            $"  {value.Operation}{(value.Detail is null ? "" : " " + value.Detail)}: {value.Fraction * 100:0}% ({value.Done} of {value.Total} bytes");
        var elapsed = clock() - _started;
        // A speed needs some time behind it; operations that only wait for the chip (verify, erase) have none to give.
        if (Transfers.Contains(value.Operation) && elapsed >= TimeSpan.FromMilliseconds(50) && value.Done > _startDone)
            text += ", " + Speed((value.Done - _startDone) / elapsed.TotalSeconds);
        return text + ")";
    }

    internal static string Speed(double bytesPerSecond) => bytesPerSecond switch
    {
        >= 1024 * 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytesPerSecond / (1024 * 1024):0.00} MiB/s"),
        >= 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytesPerSecond / 1024:0.0} KiB/s"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytesPerSecond:0} B/s"),
    };
}
