using System.Diagnostics;

namespace Esp.Simulator;

// The chip's receive paths: how the ROM loader's ring and the flasher stub's interrupt-driven buffers take (and lose)
// the bytes the host sent.
public sealed partial class VirtualChip
{
    // receive side (host -> chip); _rxLock also guards the control queue and is what the chip thread waits on
    private readonly object _rxLock = new();
    private readonly Queue<Chunk> _rx = new();
    private int _rxCount;
    private bool _chipWaitingForInput;
    private long _rxNextFree;
    private readonly SlipReader _slip = new();

    private byte ChipReadByte() => ChipReadByte(out _);

    /// <summary>The next received byte and the time it arrived (its due time on the link).</summary>
    private byte ChipReadByte(out long arrived)
    {
        lock (_rxLock)
        {
            while (true)
            {
                if (_disposed) throw new OperationCanceledException();
                if (_control.Count > 0) throw new ChipInterruptedException();
                if (_rx.Count > 0)
                {
                    var c = _rx.Peek();
                    var now = Now;
                    if (c.Due <= now)
                    {
                        var b = c.Data[c.Pos++];
                        if (c.Pos == c.Data.Length) _rx.Dequeue();
                        _rxCount--;
                        arrived = c.Due;
                        return b;
                    }
                    WaitFor(c.Due - now);
                }
                else Monitor.Wait(_rxLock);
            }
        }
    }

    /// <summary>Drops every received byte that arrived by <paramref name="until"/>; returns how many.</summary>
    private int ChipDropArrivedBy(long until)
    {
        int dropped = 0;
        lock (_rxLock)
        {
            while (_rx.Count > 0 && _rx.Peek().Due <= until)
            {
                var c = _rx.Peek();
                int n = c.Data.Length - c.Pos;
                _rx.Dequeue();
                _rxCount -= n;
                dropped += n;
            }
        }
        return dropped;
    }

    /// <summary>
    /// The next command frame for the loader's main loop. esp-flasher-stub receives by interrupt into two buffers, and
    /// only its main loop re-arms one, after the interrupt handler has marked a frame complete. Bytes the handler sees
    /// while no buffer is armed are dropped: those that arrived in the same interrupt batch as a frame's closing
    /// delimiter (the UART raises its interrupt every 32 bytes or after 10 idle bit times), and, while a command is
    /// being handled (the stub answers a data block first, then writes it), every byte after the one frame that fits
    /// the spare buffer. A frame cut that way leaves the decoder out of step (<see cref="SlipReader.ToggleDelimiters"/>),
    /// so requests sent before the previous reply arrives are lost.
    /// </summary>
    private byte[] ChipReadCommandFrame()
    {
        if (_mode != ChipMode.Stub || _protocol.StubKind != StubKind.New)
        {
            _slip.ToggleDelimiters = false;
            if (_mode == ChipMode.RomLoader) LoseRingLaps();
            return ChipReadFrame();
        }
        _slip.ToggleDelimiters = true;
        long busyEnd = Now;
        long busySince = _commandTakenAt;
        lock (_rxLock) _chipWaitingForInput = true;
        try
        {
            while (true)
            {
                var b = ChipReadByte(out long arrived);
                NoteIsrBatch(arrived);
                var f = _slip.Push(b);
                if (f is null) continue;
                int lost = DropRestOfIsrBatch(arrived);
                if (arrived > busySince && arrived <= busyEnd)
                    lost += ChipDropArrivedBy(busyEnd); // completed in the spare buffer while the last command ran
                if (lost > 0) _stats.Fault(FaultKind.RxOverrun, lost);
                _commandTakenAt = Now;
                return f;
            }
        }
        finally
        {
            lock (_rxLock) _chipWaitingForInput = false;
        }
    }

    /// <summary>
    /// The ROM loader's ring overflow (<see cref="ChipProfile.RomRxRing"/>): of the bytes that arrived while the last
    /// command ran, only the newest (count mod ring size) survive.
    /// </summary>
    private void LoseRingLaps()
    {
        int ring = _profile.RomRxRing;
        long now = Now;
        lock (_rxLock)
        {
            long arrived = 0;
            foreach (var c in _rx)
            {
                if (c.Due > now) break;
                arrived += c.Data.Length - c.Pos;
            }
            long lost = arrived - arrived % ring;
            if (lost == 0) return;
            _stats.Fault(FaultKind.RxOverrun, (int)lost);
            while (lost > 0)
            {
                var c = _rx.Peek();
                int n = (int)Math.Min(lost, c.Data.Length - c.Pos);
                c.Pos += n;
                if (c.Pos == c.Data.Length) _rx.Dequeue();
                _rxCount -= n;
                lost -= n;
            }
        }
    }

    private long _commandTakenAt = long.MinValue;
    private long _isrLastArrival;
    private int _isrBatchFill;
    private const int RxFifoThreshold = 32;

    /// <summary>Ten bit times at the chip's rate: the idle time after which the UART raises its receive-timeout interrupt.</summary>
    private long RxTimeoutTicks()
    {
        int baud;
        lock (_stateLock) baud = EffectiveBaud;
        return (long)(10.0 / Math.Max(1, baud) * Stopwatch.Frequency);
    }

    private void NoteIsrBatch(long arrived)
    {
        if (arrived - _isrLastArrival >= RxTimeoutTicks()) _isrBatchFill = 0;
        _isrLastArrival = arrived;
        if (++_isrBatchFill == RxFifoThreshold) _isrBatchFill = 0; // the handler ran on this byte
    }

    /// <summary>Drops the bytes that arrive back to back after <paramref name="frameEnd"/> in the same interrupt batch.</summary>
    private int DropRestOfIsrBatch(long frameEnd)
    {
        int dropped = 0;
        long tout = RxTimeoutTicks();
        long last = frameEnd;
        while (_isrBatchFill != 0)
        {
            long deadline = last + tout;
            long? due;
            lock (_rxLock)
            {
                while (true)
                {
                    due = _rx.Count > 0 ? _rx.Peek().Due : null;
                    long now = Now;
                    if ((due is { } d && d <= now) || now >= deadline || _disposed || _control.Count > 0) break;
                    long wake = Math.Min(deadline, due ?? deadline);
                    WaitFor(Math.Min(wake - now, Ticks(TimeSpan.FromMilliseconds(50))));
                }
            }
            if (due is not { } arrived || arrived - last >= tout) break;
            ChipReadByte(out arrived);
            NoteIsrBatch(arrived);
            last = arrived;
            dropped++;
        }
        return dropped;
    }

    private byte[] ChipReadFrame()
    {
        lock (_rxLock) _chipWaitingForInput = true;
        try
        {
            while (true)
            {
                var f = _slip.Push(ChipReadByte());
                if (f is not null) return f;
            }
        }
        finally
        {
            lock (_rxLock) _chipWaitingForInput = false;
        }
    }

    /// <summary>
    /// Waits up to <paramref name="ticks"/> with <c>_rxLock</c> held (released while waiting). The last two
    /// milliseconds are spun rather than slept: timer waits overshoot by about a millisecond, which would add a
    /// millisecond to every frame of a simulated link.
    /// </summary>
    private void WaitFor(long ticks)
    {
        long ms = ticks * 1000 / Stopwatch.Frequency;
        if (ms > 2) Monitor.Wait(_rxLock, (int)(ms - 1));
        else Monitor.Wait(_rxLock, 0);
    }
}
