using System.Diagnostics;

namespace Esp.Simulator;

/// <summary>
/// A virtual ESP chip speaking the serial bootloader protocol byte for byte like the mask-ROM loader and the
/// flasher stubs. One chip thread executes commands; hosts talk to it through <see cref="OpenHostStream"/>
/// (in-process), or the TCP, RFC 2217 and pseudo-terminal servers in this assembly.
/// </summary>
/// <remarks>
/// The parts: the host link (<c>VirtualChip.HostLink.cs</c>), the receive paths (<c>VirtualChip.Receive.cs</c>), the
/// chip thread (<c>VirtualChip.Execution.cs</c>), the auto-reset circuit (<c>VirtualChip.Reset.cs</c>), the state file
/// (<c>VirtualChip.StateFile.cs</c>) and what the bootloader protocol may do to the chip
/// (<c>VirtualChip.BootloaderHost.cs</c>).
/// </remarks>
public sealed partial class VirtualChip : IAsyncDisposable, IDisposable
{
    private readonly ChipProfile _profile;
    private readonly MemoryBus _bus;
    private readonly BootloaderProtocol _protocol;
    private readonly SimStatistics _stats = new();
    private readonly object _stateLock = new();
    private readonly List<LoadedSegment> _segments = new();
    private readonly int _revision;

    private volatile ChipMode _mode;
    private volatile bool _disposed;
    private uint? _lastEntry;

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
        LoadStateFile();
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
        _protocol = new BootloaderProtocol(_profile, options, _bus, Flash, new BootloaderHost(this));

        var f = options.Faults;
        _h2cFaults = new ByteFaultInjector(f.Direction == FaultDirection.ChipToHost ? f with { DropByteRate = 0, FlipBitRate = 0, InsertByteRate = 0 } : f, f.Seed, _stats);
        _c2hFaults = new ByteFaultInjector(f.Direction == FaultDirection.HostToChip ? f with { DropByteRate = 0, FlipBitRate = 0, InsertByteRate = 0 } : f, unchecked(f.Seed * 7919 + 1), _stats);
        _cmdRng = new Random(unchecked(f.Seed * 104729 + 2));

        _saveTimer = KeepStateFile();

        _mode = options.StartInDownloadMode ? ChipMode.RomLoader : ChipMode.BootedApp;
        if (options.StartInDownloadMode && options.StartInStub)
        {
            _protocol.StartStub(options.DefaultStubKind);
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
    public StubKind? RunningStub => _mode == ChipMode.Stub ? _protocol.StubKind : null;
    public uint? LastEntryPoint { get { lock (_stateLock) return _lastEntry; } }
    public IReadOnlyList<LoadedSegment> LoadedSegments { get { lock (_stateLock) return _segments.ToArray(); } }
    /// <summary>The chip's current UART baud.</summary>
    public int ChipBaud { get { lock (_stateLock) return EffectiveBaud; } }

    public byte[] ReadMemory(uint address, int length) => _bus.ReadBytes(address, length);
    public uint ReadRegister(uint address) => _bus.ReadWord(address);
    /// <summary>Test hook: writes a word as WRITE_REG would (e.g. to model peripheral state a previous session left).</summary>
    public void WriteRegister(uint address, uint value) => _bus.WriteWord(address, value);

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

    private static long Now => Stopwatch.GetTimestamp();
    private static long Ticks(TimeSpan t) => (long)(t.TotalSeconds * Stopwatch.Frequency);

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
        CloseStateFile();
    }

    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }
}
