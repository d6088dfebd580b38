using System.Diagnostics;
using System.Text;

namespace Esp.Simulator;

/// <summary>
/// A virtual ESP chip speaking the serial bootloader protocol byte for byte like the mask-ROM loader and the
/// flasher stubs. One chip thread executes commands; hosts talk to it through <see cref="OpenHostStream"/>
/// (in-process), or the TCP, RFC 2217 and pseudo-terminal servers in this assembly.
/// </summary>
public sealed partial class VirtualChip : IAsyncDisposable, IDisposable
{
    private readonly ChipProfile _profile;
    private readonly MemoryBus _bus;
    private readonly Loader _loader;
    private readonly Port _port;
    private readonly SimStatistics _stats = new();
    private readonly ByteFaultInjector _h2cFaults, _c2hFaults;
    private readonly Random _cmdRng;
    private readonly Thread _thread;
    private readonly Timer _saveTimer;
    private readonly Thread _resetThread;
    private readonly AutoResetEvent _resetWake = new(false);
    private readonly List<(long Time, bool Io0Low)> _io0History = new();
    private long _enReleaseTicks = -1;
    private readonly object _stateLock = new();
    private readonly List<LoadedSegment> _segments = new();
    private readonly SlipReader _slip = new();
    private readonly int _revision;

    // receive side (host -> chip)
    private readonly object _rxLock = new();
    private readonly Queue<Chunk> _rx = new();
    private readonly Queue<Control> _control = new();
    private int _rxCount;
    private bool _chipWaitingForInput;
    private long _rxNextFree;

    // transmit side (chip -> host)
    private readonly object _txLock = new();
    private readonly Queue<Chunk> _tx = new();
    private readonly SemaphoreSlim _txSignal = new(0, 1);
    private long _txNextFree, _txHoldUntil;

    private volatile ChipMode _mode;
    private volatile bool _disposed;
    private int _chipBaud;
    private bool _baudLocked;
    private int? _hostBaud;
    private bool _dtr, _rts, _enLow;
    private uint? _lastEntry;
    private HostStream? _hostStream;
    private bool _linkDown;
    private long _hostBytes;
    private int _dirty;

    private sealed class Chunk(byte[] data, long due)
    {
        public readonly byte[] Data = data;
        public readonly long Due = due;
        public int Pos;
    }

    private enum ControlKind { PowerOn, EnLow, EnRelease }

    private sealed class Control(ControlKind kind, bool download)
    {
        public readonly ControlKind Kind = kind;
        public readonly bool Download = download;
        public readonly ManualResetEventSlim Done = new(false);
    }

    public VirtualChip(VirtualChipOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Options = options;
        _profile = ChipProfile.Get(options.Chip);
        ChipKey = _profile.Key;
        if (options.FlashSize > _profile.MaxFlashMiB * 1024 * 1024 || options.FlashSize < 1024 * 1024)
            throw new ArgumentException($"{_profile.Name}: flash size must be between 1 MiB and {_profile.MaxFlashMiB} MiB (got {options.FlashSize} bytes).");
        Flash = new SimFlash(options.FlashSize, options.FlashManufacturer, options.FlashMemoryType, options.FlashStatus,
            options.FlashWriteProtectPinLow, options.FlashTiming);
        if (options.StatePath is { } sp && File.Exists(sp)) Flash.LoadImage(File.ReadAllBytes(sp));
        foreach (var pre in options.Preloads) Flash.Load(pre.Address, pre.Data);

        _revision = options.Revision ?? Identity.DefaultRevision(ChipKey);
        var mac = Identity.ParseMac(options.Mac ?? Identity.DefaultMacs[ChipKey]);
        var efuse = Identity.Efuse(_profile, mac, _revision);
        foreach (var (address, value) in options.EfuseWords) efuse[address] = value;
        var resetRegs = Identity.ResetRegisters(_profile, _revision, options.StartInDownloadMode, options.Peripherals == PeripheralProfile.QemuLike);
        _chipBaud = options.InitialBaud;
        _bus = new MemoryBus(_profile, Flash, options.MagicValue ?? _profile.Magic, efuse, resetRegs, UartClkdiv);
        var (u, u2) = Identity.SpiResetValues(_profile);
        _bus.Spi.SetResetValues(u, u2);
        _bus.Reset();
        _port = new Port(this);
        _loader = new Loader(_profile, options, _bus, Flash, _port);

        var f = options.Faults;
        _h2cFaults = new ByteFaultInjector(f.Direction == FaultDirection.ChipToHost ? f with { DropByteRate = 0, FlipBitRate = 0, InsertByteRate = 0 } : f, f.Seed, _stats);
        _c2hFaults = new ByteFaultInjector(f.Direction == FaultDirection.HostToChip ? f with { DropByteRate = 0, FlipBitRate = 0, InsertByteRate = 0 } : f, unchecked(f.Seed * 7919 + 1), _stats);
        _cmdRng = new Random(unchecked(f.Seed * 104729 + 2));

        _saveTimer = new Timer(_ => { try { SaveIfDirty(); } catch (IOException) { } });
        Flash.Changed += () =>
        {
            Interlocked.Exchange(ref _dirty, 1);
            if (Options.StatePath is not null) _saveTimer.Change(200, Timeout.Infinite);
        };
        if (options.StatePath is { } path && !File.Exists(path)) SaveState();

        _mode = options.StartInDownloadMode ? ChipMode.RomLoader : ChipMode.BootedApp;
        if (options.StartInDownloadMode && options.StartInStub)
        {
            _loader.StartStub(options.DefaultStubKind);
            _mode = ChipMode.Stub;
            _baudLocked = true;
        }
        _thread = new Thread(ChipThread) { IsBackground = true, Name = $"virtual {ChipKey}" };
        _thread.Start();
        _resetThread = new Thread(ResetWatcher) { IsBackground = true, Name = $"virtual {ChipKey} EN" };
        _resetThread.Start();
    }

    /// <summary>Creates a chip from a URI such as <c>sim:esp32?flash=4MB&amp;state=/p/flash.bin</c> (see README).</summary>
    public static VirtualChip FromUri(string uri) => new(SimUri.Parse(uri));

    public VirtualChipOptions Options { get; }
    public string ChipKey { get; }
    public SimFlash Flash { get; }
    public SimStatistics Statistics => _stats;
    public ChipMode Mode => _mode;
    /// <summary>Stub flavour while <see cref="Mode"/> is <see cref="ChipMode.Stub"/>.</summary>
    public StubKind? RunningStub => _mode == ChipMode.Stub ? _loader.StubKind : null;
    public uint? LastEntryPoint { get { lock (_stateLock) return _lastEntry; } }
    public IReadOnlyList<LoadedSegment> LoadedSegments { get { lock (_stateLock) return _segments.ToArray(); } }
    /// <summary>The chip's current UART baud.</summary>
    public int ChipBaud { get { lock (_stateLock) return EffectiveBaud; } }

    public byte[] ReadMemory(uint address, int length) => _bus.ReadBytes(address, length);
    public uint ReadRegister(uint address) => _bus.ReadWord(address);
    /// <summary>Test hook: writes a word as WRITE_REG would (e.g. to model peripheral state a previous session left).</summary>
    public void WriteRegister(uint address, uint value) => _bus.WriteWord(address, value);

    private int EffectiveBaud => !_baudLocked && _hostBaud is { } hb ? hb : _chipBaud;

    private uint UartClkdiv()
    {
        if (Options.Peripherals == PeripheralProfile.QemuLike && _profile.IsEsp32) return 0x15A;
        int baud;
        lock (_stateLock) baud = EffectiveBaud;
        double div = (Options.XtalMhz ?? _profile.DefaultXtalMhz) * 1e6 * _profile.UartClockDivider / baud;
        uint whole = (uint)div;
        uint frac = _profile.IsEsp8266 ? 0 : (uint)Math.Round((div - whole) * 16) & 0xF;
        return whole | frac << 20;
    }

    // ================================================================== host side

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

    private static long Now => Stopwatch.GetTimestamp();
    private static long Ticks(TimeSpan t) => (long)(t.TotalSeconds * Stopwatch.Frequency);

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
            var before = _hostBytes;
            _hostBytes += buffer.Length;
            if (_hostBytes >= limit)
            {
                if (before < limit)
                {
                    _stats.Fault(FaultKind.Disconnect);
                    lock (_txLock) { _linkDown = true; Signal(); }
                }
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

    // ================================================================== chip side I/O

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
        if (_mode != ChipMode.Stub || _loader.StubKind != StubKind.New)
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

    private void ChipSleep(TimeSpan t)
    {
        var until = Now + Ticks(t);
        lock (_rxLock)
        {
            while (true)
            {
                if (_disposed) throw new OperationCanceledException();
                if (_control.Count > 0) throw new ChipInterruptedException();
                var left = until - Now;
                if (left <= 0) return;
                Monitor.Wait(_rxLock, (int)Math.Max(1, left * 1000 / Stopwatch.Frequency));
            }
        }
    }

    // ================================================================== chip thread

    private void ChipThread()
    {
        while (!_disposed)
        {
            try
            {
                ApplyControls();
                var frame = ChipReadCommandFrame();
                var mode = _mode;
                if (mode is not (ChipMode.RomLoader or ChipMode.Stub)) continue;
                if (frame.Length >= 8) _stats.Command(frame[1]);
                var f = Options.Faults;
                if (f.ResetMidCommandRate > 0 && _cmdRng.NextDouble() < f.ResetMidCommandRate)
                {
                    _stats.Fault(FaultKind.ResetMidCommand);
                    Reset(download: true, powerCycleFlash: false, banner: WatchdogBanner());
                    continue;
                }
                if (f.DelayReplyRate > 0 && _cmdRng.NextDouble() < f.DelayReplyRate)
                {
                    _stats.Fault(FaultKind.DelayReply);
                    lock (_txLock) _txHoldUntil = Now + Ticks(f.ReplyDelay);
                }
                _loader.Handle(frame);
            }
            catch (ChipInterruptedException) { }
            catch (OperationCanceledException) { return; }
        }
    }

    private string WatchdogBanner() => _profile.IsEsp8266 ? _profile.BannerDownload
        : _profile.BannerDownload.Replace("rst:0x1 (POWERON_RESET)", "rst:0x10 (RTCWDT_RTC_RESET)", StringComparison.Ordinal)
            .Replace("rst:0x1 (POWERON)", "rst:0x10 (RTCWDT_RTC_RESET)", StringComparison.Ordinal);

    private void ApplyControls()
    {
        while (true)
        {
            Control? c;
            lock (_rxLock) c = _control.Count > 0 ? _control.Dequeue() : null;
            if (c is null) return;
            switch (c.Kind)
            {
                case ControlKind.EnLow:
                    lock (_rxLock) { _rx.Clear(); _rxCount = 0; }
                    _slip.Reset();
                    _mode = ChipMode.InReset;
                    break;
                case ControlKind.EnRelease:
                    Reset(c.Download, powerCycleFlash: false, banner: null);
                    break;
                case ControlKind.PowerOn:
                    Reset(c.Download, powerCycleFlash: true, banner: null);
                    break;
            }
            c.Done.Set();
        }
    }

    /// <summary>Chip reset (runs on the chip thread): registers, loader state, baud; prints the ROM boot text.</summary>
    private void Reset(bool download, bool powerCycleFlash, string? banner)
    {
        lock (_rxLock) { _rx.Clear(); _rxCount = 0; }
        _slip.Reset();
        if (powerCycleFlash) Flash.PowerCycle();
        _bus.Reset();
        if (_profile.IsEsp32 && Options.Peripherals == PeripheralProfile.Silicon) _bus.WriteWord(0x3FF44038, download ? 0x03u : 0x13u); // GPIO_STRAP
        _loader.ResetState();
        lock (_stateLock) { _chipBaud = Options.InitialBaud; _baudLocked = false; }
        lock (_txLock) _txHoldUntil = 0;
        _mode = download ? ChipMode.RomLoader : ChipMode.BootedApp;
        if (Options.PrintBootBanner)
        {
            var text = banner ?? (download ? _profile.BannerDownload : _profile.BannerApp);
            ChipSend(Encoding.Latin1.GetBytes(text), _profile.BootLogBaud);
        }
    }

    private void PostControl(Control c)
    {
        lock (_rxLock)
        {
            _control.Enqueue(c);
            Monitor.PulseAll(_rxLock);
        }
        if (Thread.CurrentThread != _thread) c.Done.Wait(TimeSpan.FromSeconds(30));
    }

    // ================================================================== public control

    /// <summary>
    /// Waits until the chip has handled every byte it received and is waiting for more, so that a test can read its
    /// flash or memory knowing that work the chip acknowledged before doing it (a stub writes a block after replying)
    /// is done. False when that does not happen within <paramref name="timeout"/>.
    /// </summary>
    public bool WaitUntilIdle(TimeSpan timeout)
    {
        var deadline = Now + Ticks(timeout);
        lock (_rxLock)
        {
            while (!(_chipWaitingForInput && _rxCount == 0 && _control.Count == 0))
            {
                var left = deadline - Now;
                if (left <= 0 || _disposed) return false;
                Monitor.Wait(_rxLock, (int)Math.Clamp(left * 1000 / Stopwatch.Frequency, 1, 5));
            }
            return true;
        }
    }

    /// <summary>
    /// Drives DTR/RTS (true = asserted) into the classic two-transistor auto-reset circuit (§3.1): EN is pulled low only
    /// when RTS is asserted and DTR is not; IO0 only when DTR is asserted and RTS is not. The chip samples IO0
    /// <see cref="VirtualChipOptions.ResetCapacitorDelay"/> after EN is released (the EN capacitor).
    /// </summary>
    public void SetLines(bool? dtr, bool? rts)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        bool enterReset = false;
        bool? boot;
        lock (_stateLock)
        {
            // Resolve a boot whose sampling instant has passed before this change (the RC delay is modelled from
            // timestamps, so late timer threads on a busy machine cannot change the outcome).
            boot = ResolvePendingBoot(Now);
            if (dtr is { } d) _dtr = d;
            if (rts is { } r) _rts = r;
            bool enLow = _rts && !_dtr;
            _io0History.Add((Now, _dtr && !_rts));
            if (enLow && !_enLow)
            {
                _enLow = true;
                _enReleaseTicks = -1;
                enterReset = true;
            }
            else if (!enLow && _enLow)
            {
                _enLow = false;
                _enReleaseTicks = Now;
                _io0History.Clear();
                _io0History.Add((_enReleaseTicks, _dtr && !_rts));
                _resetWake.Set();
            }
        }
        if (boot is { } download) PostControl(new Control(ControlKind.EnRelease, download));
        if (enterReset)
        {
            _mode = ChipMode.InReset;
            PostControl(new Control(ControlKind.EnLow, false));
        }
    }

    private bool? ResolvePendingBoot(long now)
    {
        if (_enReleaseTicks < 0) return null;
        var sampleAt = _enReleaseTicks + Ticks(Options.ResetCapacitorDelay);
        if (now < sampleAt) return null;
        bool io0Low = _io0History[0].Io0Low;
        foreach (var (t, low) in _io0History)
            if (t <= sampleAt) io0Low = low;
        _enReleaseTicks = -1;
        _io0History.Clear();
        return io0Low;
    }

    private void ResetWatcher()
    {
        while (!_disposed)
        {
            int wait;
            bool? boot;
            lock (_stateLock)
            {
                boot = ResolvePendingBoot(Now);
                wait = _enReleaseTicks < 0 ? Timeout.Infinite
                    : (int)Math.Max(1, (_enReleaseTicks + Ticks(Options.ResetCapacitorDelay) - Now) * 1000 / Stopwatch.Frequency);
            }
            if (boot is { } download)
            {
                try { PostControl(new Control(ControlKind.EnRelease, download)); } catch (ObjectDisposedException) { return; }
                continue;
            }
            _resetWake.WaitOne(wait);
        }
    }

    /// <summary>Host-side baud. A mismatch with the chip's baud garbles bytes (the ROM auto-bauds until CHANGE_BAUDRATE).</summary>
    public void SetHostBaud(int baud)
    {
        if (baud <= 0) throw new ArgumentOutOfRangeException(nameof(baud));
        lock (_stateLock) _hostBaud = baud;
    }

    /// <summary>Power cycle: flash volatile status restored, registers reset, chip boots (download mode or app).</summary>
    public void PowerOnReset(bool downloadMode = true)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        lock (_stateLock) { _enLow = false; _enReleaseTicks = -1; }
        PostControl(new Control(ControlKind.PowerOn, downloadMode));
    }

    // ================================================================== state file

    /// <summary>Writes the flash to <see cref="VirtualChipOptions.StatePath"/> (temp file + rename).</summary>
    public void SaveState()
    {
        if (Options.StatePath is not { } path) return;
        Interlocked.Exchange(ref _dirty, 0);
        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        var tmp = full + ".tmp" + Environment.ProcessId;
        File.WriteAllBytes(tmp, Flash.Snapshot());
        File.Move(tmp, full, overwrite: true);
    }

    private void SaveIfDirty()
    {
        if (Interlocked.CompareExchange(ref _dirty, 0, 1) == 1)
        {
            Interlocked.Exchange(ref _dirty, 1);
            SaveState();
        }
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        lock (_rxLock) Monitor.PulseAll(_rxLock);
        lock (_txLock) Signal();
        _thread.Join(TimeSpan.FromSeconds(5));
        _resetWake.Set();
        _resetThread.Join(TimeSpan.FromSeconds(2));
        _resetWake.Dispose();
        _saveTimer.Dispose();
        if (Options.StatePath is not null) SaveState();
    }

    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }

    // ================================================================== loader host adapter

    private sealed class Port(VirtualChip chip) : ILoaderHost
    {
        public void Send(ReadOnlySpan<byte> packet) => chip.ChipSend(SlipWriter.Frame(packet));
        public void SendRaw(ReadOnlySpan<byte> bytes) => chip.ChipSend(bytes.ToArray());
        public byte[] ReadFrame() => chip.ChipReadFrame();
        public void Sleep(TimeSpan t) => chip.ChipSleep(t);

        public void SetChipBaud(int baud)
        {
            if (baud <= 0) return;
            switch (chip.Options.BaudChange)
            {
                case BaudChangeBehaviour.Ignore:
                    lock (chip._stateLock) chip._baudLocked = true;
                    break;
                case BaudChangeBehaviour.Silent:
                    chip._mode = ChipMode.RunningUserCode;
                    break;
                default:
                    lock (chip._stateLock) { chip._chipBaud = baud; chip._baudLocked = true; }
                    break;
            }
        }

        public void LeaveLoader(ChipMode mode, uint? entry)
        {
            lock (chip._stateLock) if (entry is not null) chip._lastEntry = entry;
            chip._mode = mode;
        }

        public void EnterStub(StubKind kind, uint entry)
        {
            lock (chip._stateLock)
            {
                chip._chipBaud = chip.EffectiveBaud;
                chip._baudLocked = true;
                chip._lastEntry = entry;
            }
            chip._loader.StartStub(kind);
            chip._mode = ChipMode.Stub;
            Send("OHAI"u8);
        }

        public void SoftwareReboot()
        {
            // CPU reset back into the ROM loader (strapping latched at power-on). Peripherals keep their registers
            // (the ESP32 trace after the legacy stub's exit shows SPI_USER unchanged) except SPI_USER2, which the ROM's
            // start-up code sets again; no banner (the traces show none).
            chip._loader.ResetState();
            chip._bus.Spi.ResetUser2();
            lock (chip._stateLock) { chip._chipBaud = chip.Options.InitialBaud; chip._baudLocked = false; }
            chip._mode = ChipMode.RomLoader;
        }

        public void RecordSegment(LoadedSegment segment)
        {
            lock (chip._stateLock) chip._segments.Add(segment);
        }
    }
}
