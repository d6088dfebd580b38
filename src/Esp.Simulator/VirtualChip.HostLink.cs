using System.Diagnostics;

namespace Esp.Simulator;

// The host end of the UART: what the host writes (faults, baud mismatch, disconnects and the receive buffer's limit
// applied on the way in), what the chip sends (throttled to the baud rate, delayed by the link latency) and the baud
// rates on either side.
public sealed partial class VirtualChip
{
    // transmit side (chip -> host)
    private readonly object _txLock = new();
    private readonly Queue<Chunk> _tx = new();
    private readonly SemaphoreSlim _txSignal = new(0, 1);
    private long _txNextFree, _txHoldUntil;

    private readonly ByteFaultInjector _h2cFaults, _c2hFaults;
    private int _chipBaud;
    private bool _baudLocked;
    private int? _hostBaud;
    private HostStream? _hostStream;
    private bool _linkDown;
    private long _hostBytes;

    /// <summary>Bytes on the wire with the time they are due at the other end.</summary>
    private sealed class Chunk(byte[] data, long due)
    {
        public readonly byte[] Data = data;
        public readonly long Due = due;
        public int Pos;
    }

    /// <summary>
    /// Opens the in-process host end of the UART: writes go to the chip's RX, reads return what the chip sends.
    /// One host at a time; open again after disposing the previous stream. Bytes the chip sends while no host is
    /// attached are lost, as on a real UART nobody listens to.
    /// </summary>
    public Stream OpenHostStream()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        lock (_txLock)
        {
            if (_hostStream is not null) throw new InvalidOperationException("A host stream is already open on this chip; dispose it first.");
            _tx.Clear();
            _linkDown = false;
            _hostStream = new HostStream(this);
            return _hostStream;
        }
    }

    internal void CloseHostStreamInternal(HostStream s)
    {
        lock (_txLock)
        {
            if (_hostStream == s) _hostStream = null;
            _tx.Clear();
            Signal();
        }
    }

    private long WireTicks(int bytes, int baud) => Options.Link.BaudThrottle ? (long)(bytes * 10.0 / baud * Stopwatch.Frequency) : 0;

    private bool Mismatch(int chipSideBaud) =>
        _hostBaud is { } hb && Math.Abs(hb - chipSideBaud) > chipSideBaud * 0.03;

    private static byte[] Garble(byte[] data)
    {
        // A receiver sampling at the wrong rate sees different (but repeatable) bytes.
        var r = new byte[data.Length];
        for (var i = 0; i < data.Length; i++) r[i] = (byte)((data[i] >> 1) | 0x80 ^ (data[i] << 5));
        return r;
    }

    internal void HostWrite(ReadOnlySpan<byte> buffer)
    {
        if (_disposed || _linkDown) throw new IOException("The virtual serial link is closed.");
        _stats.In(buffer.Length);
        var data = _h2cFaults.Apply(buffer);
        if (Options.Faults.DisconnectAfterHostBytes is { } limit)
        {
            // The link drops once, as a cable pulled mid-transfer; a host that opens the link again gets a working UART.
            var before = _hostBytes;
            _hostBytes += buffer.Length;
            if (before < limit && _hostBytes >= limit)
            {
                _stats.Fault(FaultKind.Disconnect);
                lock (_txLock) { _linkDown = true; Signal(); }
                data = data.AsSpan(0, (int)Math.Clamp(limit - before, 0, data.Length)).ToArray();
            }
        }
        lock (_stateLock)
        {
            if (_baudLocked && Mismatch(_chipBaud))
            {
                _stats.Fault(FaultKind.BaudMismatch, data.Length);
                data = Garble(data);
            }
        }
        if (data.Length == 0) return;
        lock (_rxLock)
        {
            if (_mode == ChipMode.InReset) return; // UART is not running while EN is low
            if (!_chipWaitingForInput && _rxCount + data.Length > Options.Link.RxBufferSize)
            {
                var keep = Math.Max(0, Options.Link.RxBufferSize - _rxCount);
                _stats.Fault(FaultKind.RxOverrun, data.Length - keep);
                data = data.AsSpan(0, keep).ToArray();
                if (data.Length == 0) return;
            }
            int baud;
            lock (_stateLock) baud = EffectiveBaud;
            var start = Math.Max(Now, _rxNextFree);
            _rxNextFree = start + WireTicks(data.Length, baud);
            _rx.Enqueue(new Chunk(data, _rxNextFree + Ticks(Options.Link.HostToChipLatency)));
            _rxCount += data.Length;
            _stats.Buffered(_rxCount);
            Monitor.PulseAll(_rxLock);
        }
    }

    /// <summary>
    /// Copies due bytes; returns -1 (with a wait hint) when nothing is due yet, 0 at end of stream. A hint of 0 means
    /// the next bytes are due within two milliseconds: the reader should yield and try again rather than sleep.
    /// </summary>
    internal int TryHostRead(Span<byte> buffer, out int waitMs)
    {
        waitMs = Timeout.Infinite;
        lock (_txLock)
        {
            if (_disposed || _linkDown) return 0;
            if (_tx.Count == 0) return -1;
            var now = Now;
            var c = _tx.Peek();
            if (c.Due > now)
            {
                long ms = (c.Due - now) * 1000 / Stopwatch.Frequency;
                waitMs = ms > 2 ? (int)(ms - 1) : 0;
                return -1;
            }
            int n = 0;
            while (n < buffer.Length && _tx.Count > 0 && _tx.Peek().Due <= now)
            {
                var h = _tx.Peek();
                var take = Math.Min(buffer.Length - n, h.Data.Length - h.Pos);
                h.Data.AsSpan(h.Pos, take).CopyTo(buffer[n..]);
                h.Pos += take; n += take;
                if (h.Pos == h.Data.Length) _tx.Dequeue();
            }
            return n;
        }
    }

    internal SemaphoreSlim TxSignal => _txSignal;

    private void Signal()
    {
        if (_txSignal.CurrentCount == 0)
        {
            try { _txSignal.Release(); } catch (SemaphoreFullException) { }
        }
    }

    /// <summary>Queues what the chip sends; it reaches the host at the wire's pace (the boot text at <paramref name="atBaud"/>).</summary>
    private void ChipSend(byte[] wire, int? atBaud = null)
    {
        _stats.Out(wire.Length);
        lock (_txLock)
        {
            if (_hostStream is null || _linkDown) return;
            var data = _c2hFaults.Apply(wire);
            int baud;
            lock (_stateLock)
            {
                baud = atBaud ?? EffectiveBaud;
                if ((atBaud is not null || _baudLocked) && Mismatch(baud))
                {
                    _stats.Fault(FaultKind.BaudMismatch, data.Length);
                    data = Garble(data);
                }
            }
            var start = Math.Max(Now, _txNextFree);
            _txNextFree = start + WireTicks(data.Length, baud);
            var due = Math.Max(_txNextFree + Ticks(Options.Link.ChipToHostLatency), _txHoldUntil);
            _tx.Enqueue(new Chunk(data, due));
            Signal();
        }
    }

    /// <summary>The rate the chip's UART runs at: the host's until a loader locks one (the ROM auto-bauds until then).</summary>
    private int EffectiveBaud => !_baudLocked && _hostBaud is { } hb ? hb : _chipBaud;

    /// <summary>Host-side baud. A mismatch with the chip's baud garbles bytes (the ROM auto-bauds until CHANGE_BAUDRATE).</summary>
    public void SetHostBaud(int baud)
    {
        if (baud <= 0) throw new ArgumentOutOfRangeException(nameof(baud));
        lock (_stateLock) _hostBaud = baud;
    }
}
