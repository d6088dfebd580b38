using Esp.Protocol.Errors;
using Esp.Protocol.Loader.Reset;
using Esp.Protocol.Transport;

namespace Esp.Protocol.Monitor;

/// <summary>
/// A serial monitor: opens a port, optionally resets the chip into its application, and streams what the chip prints
/// to a sink until the awaited text appears, the timeout runs out, the link closes or the caller cancels. It has no
/// console of its own, so the CLI, MSBuild tasks and tests use it alike.
/// </summary>
public static class SerialMonitor
{
    private const int ReadSize = 4096;

    /// <summary>Runs the monitor. Cancellation ends it normally (<see cref="MonitorOutcome.Stopped"/>); it does not throw.</summary>
    /// <exception cref="EspException">The port cannot be opened, or the reset failed on the way.</exception>
    public static async Task<MonitorResult> RunAsync(MonitorOptions options, IMonitorSink sink, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(sink);
        if (options.Until is { Length: 0 }) throw new EspException(EspErrorCode.InvalidArgument, "The text to wait for is empty.");
        var transport = options.Transport ?? await TransportFactory.OpenAsync(options.Port,
            new TransportOptions { BaudRate = options.Baud }, cancellationToken).ConfigureAwait(false);
        try
        {
            if (transport.BaudRate != options.Baud) await transport.SetBaudRateAsync(options.Baud, cancellationToken).ConfigureAwait(false);
            bool reset = options.ResetIntoApp && await ResetIntoAppAsync(transport, options, cancellationToken).ConfigureAwait(false);
            options.Log?.Invoke($"Monitoring {transport.Name} at {options.Baud} Bd" +
                (options.Until is null ? "" : $" until \"{options.Until}\"") +
                (options.Timeout is { } t ? $" (at most {t.TotalSeconds:0.###} s)" : "") + ".");
            return await PumpAsync(transport, options, sink, reset, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (options.Transport is null) await transport.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>The hard-reset pulse (EN low, boot strap released); false when the port has no DTR/RTS.</summary>
    private static async Task<bool> ResetIntoAppAsync(IEspTransport transport, MonitorOptions options, CancellationToken ct)
    {
        string cannot = $"The port '{transport.Name}' cannot drive DTR/RTS, so the chip was not reset: press EN/RESET to see its boot messages.";
        if (!transport.SupportsLineControl)
        {
            options.Warning?.Invoke(cannot);
            return false;
        }
        try
        {
            // What was received before the reset belongs to an earlier run.
            transport.DiscardInput();
            var reset = ResetStrategies.HardResetFor(transport, usesUsb: transport.UsbId is { Vid: 0x303A });
            await reset.RunAsync(transport, ct).ConfigureAwait(false);
            return true;
        }
        catch (EspException ex) when (ex.Code == EspErrorCode.LineControlUnsupported)
        {
            // A pseudo-terminal says so only when asked.
            options.Warning?.Invoke(cannot);
            return false;
        }
    }

    private static async Task<MonitorResult> PumpAsync(IEspTransport transport, MonitorOptions options, IMonitorSink sink, bool reset, CancellationToken ct)
    {
        var clock = options.TimeProvider;
        long started = clock.GetTimestamp();
        using var timeout = options.Timeout is { } t ? new CancellationTokenSource(t, clock) : new CancellationTokenSource();
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, timeout.Token);
        var decoder = new MonitorTextDecoder();
        var match = options.Until is { } until ? new LineMatcher(until) : null;
        var pieces = new List<MonitorText>();
        var buffer = new byte[ReadSize];
        long bytes = 0;
        int lines = 0;

        MonitorResult Result(MonitorOutcome outcome, string? matched = null)
        {
            pieces.Clear();
            decoder.Flush(clock.GetLocalNow(), pieces);
            foreach (var p in pieces) sink.Text(p);
            return new MonitorResult(outcome, options.Until, options.Timeout, bytes, lines, clock.GetElapsedTime(started), reset) { MatchedLine = matched };
        }

        while (true)
        {
            int n;
            try
            {
                n = await transport.ReadAsync(buffer, linked.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (linked.IsCancellationRequested && ex is OperationCanceledException or EspException)
            {
                return Result(ct.IsCancellationRequested ? MonitorOutcome.Stopped : MonitorOutcome.TimedOut);
            }
            catch (EspException ex) when (ex.Code == EspErrorCode.Disconnected)
            {
                return Result(MonitorOutcome.LinkClosed);
            }
            if (n == 0) return Result(MonitorOutcome.LinkClosed);

            var now = clock.GetLocalNow();
            bytes += n;
            sink.Received(buffer.AsSpan(0, n), now);
            pieces.Clear();
            decoder.Decode(buffer.AsSpan(0, n), now, pieces);
            foreach (var piece in pieces)
            {
                sink.Text(piece);
                if (piece.EndsLine) lines++;
                if (match?.Feed(piece) is { } line) return Result(MonitorOutcome.Matched, line);
            }
        }
    }

    /// <summary>Looks for the text in the current line as its pieces arrive (so a prompt without a line end matches too).</summary>
    private sealed class LineMatcher(string text)
    {
        private readonly System.Text.StringBuilder _line = new();
        private readonly int _keep = Math.Max(4096, 2 * text.Length);

        public string? Feed(MonitorText piece)
        {
            if (piece.StartsLine) _line.Clear();
            _line.Append(piece.Text);
            var line = _line.ToString();
            if (line.Contains(text, StringComparison.Ordinal)) return line;
            // A line of endless binary output: keep only its tail, enough for a match across the next piece.
            if (_line.Length > _keep) _line.Remove(0, _line.Length - text.Length);
            return null;
        }
    }
}
