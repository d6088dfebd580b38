using Esp.Protocol.Errors;
using Esp.Protocol.Transport;

namespace Esp.Protocol.Loader.Reset;

/// <summary>
/// A DTR/RTS pulse train that puts the chip into a boot mode (DTR drives the strap pin, RTS drives EN; true =
/// asserted = pin low). Waits go through <see cref="Delay"/> so tests can record them instead of sleeping.
/// </summary>
public abstract class ResetStrategy
{
    /// <summary>esptool's default time between releasing EN and releasing the strap pin.</summary>
    public static readonly TimeSpan DefaultResetDelay = TimeSpan.FromSeconds(0.05);

    /// <summary>The longer variant tried on the second attempt (default + 0.5 s).</summary>
    public static readonly TimeSpan ExtraResetDelay = TimeSpan.FromSeconds(0.55);

    /// <summary>How EN is held low before the strap pin is released in the bootloader sequences.</summary>
    public static readonly TimeSpan EnterBootDelay = TimeSpan.FromSeconds(0.1);

    /// <summary>The wait function; <see cref="Task.Delay(TimeSpan, CancellationToken)"/> unless replaced.</summary>
    public Func<TimeSpan, CancellationToken, Task> Delay { get; set; } = Task.Delay;

    /// <summary>A short name for logs, e.g. <c>UnixTight(0.05s)</c>.</summary>
    public abstract string Description { get; }

    /// <summary>True when the strategy touches DTR/RTS (so the transport must support line control).</summary>
    public virtual bool NeedsLineControl => true;

    /// <summary>Runs the sequence.</summary>
    /// <exception cref="EspException">LineControlUnsupported when the transport cannot drive DTR/RTS.</exception>
    public async Task RunAsync(IEspTransport transport, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(transport);
        cancellationToken.ThrowIfCancellationRequested();
        if (NeedsLineControl && !transport.SupportsLineControl)
            throw new EspException(EspErrorCode.LineControlUnsupported,
                $"The chip cannot be reset into download mode: the port '{transport.Name}' cannot drive DTR/RTS.",
                "Put the chip in download mode by hand (hold BOOT, press EN/RESET) and use --before no-reset (EspBefore=no-reset).");
        var lines = new LineDriver(transport, this, cancellationToken);
        await RunCoreAsync(lines).ConfigureAwait(false);
    }

    /// <summary>The sequence itself.</summary>
    protected abstract Task RunCoreAsync(LineDriver lines);

    public override string ToString() => Description;

    /// <summary>
    /// The line primitives esptool uses. An RTS write is always followed by writing DTR again with its current
    /// value: Windows' usbser.sys only sends SET_CONTROL_LINE_STATE with the new RTS when DTR is written.
    /// </summary>
    protected sealed class LineDriver
    {
        private readonly IEspTransport _transport;
        private readonly ResetStrategy _owner;
        private readonly CancellationToken _ct;
        private bool _dtr;

        internal LineDriver(IEspTransport transport, ResetStrategy owner, CancellationToken ct)
        {
            _transport = transport;
            _owner = owner;
            _ct = ct;
            _dtr = transport is IModemLineState state && state.Dtr;
        }

        public async Task DtrAsync(bool asserted)
        {
            await _transport.SetLinesAsync(asserted, null, _ct).ConfigureAwait(false);
            _dtr = asserted;
        }

        public async Task RtsAsync(bool asserted)
        {
            await _transport.SetLinesAsync(null, asserted, _ct).ConfigureAwait(false);
            await _transport.SetLinesAsync(_dtr, null, _ct).ConfigureAwait(false);
        }

        /// <summary>Both lines in one operation (TIOCMSET on POSIX serial ports).</summary>
        public async Task BothAsync(bool dtr, bool rts)
        {
            await _transport.SetLinesAsync(dtr, rts, _ct).ConfigureAwait(false);
            _dtr = dtr;
        }

        public Task WaitAsync(TimeSpan time) => time > TimeSpan.Zero ? _owner.Delay(time, _ct) : Task.CompletedTask;

        public Task WaitAsync(double seconds) => WaitAsync(TimeSpan.FromSeconds(seconds));
    }
}

/// <summary>Sequential DTR/RTS writes; works everywhere (esptool's ClassicReset).</summary>
public sealed class ClassicReset(TimeSpan resetDelay, bool flowControl = false) : ResetStrategy
{
    public ClassicReset() : this(DefaultResetDelay) { }

    public TimeSpan ResetDelay { get; } = resetDelay;

    /// <summary>Adapters whose CTS is tied to the chip's RTS (CP2102C): the final DTR release is skipped.</summary>
    public bool FlowControl { get; } = flowControl;

    public override string Description => FormattableString.Invariant($"Classic({ResetDelay.TotalSeconds:0.###}s)");

    protected override async Task RunCoreAsync(LineDriver lines)
    {
        await lines.DtrAsync(false);      // strap pin high
        await lines.RtsAsync(true);       // EN low: chip held in reset
        await lines.WaitAsync(EnterBootDelay);
        await lines.DtrAsync(true);       // strap pin low
        await lines.RtsAsync(false);      // EN high: chip boots and samples the strap
        await lines.WaitAsync(ResetDelay);
        if (!FlowControl) await lines.DtrAsync(false);
    }
}

/// <summary>POSIX variant that changes DTR and RTS together, avoiding glitches through invalid pairs.</summary>
public sealed class UnixTightReset(TimeSpan resetDelay, bool flowControl = false) : ResetStrategy
{
    public UnixTightReset() : this(DefaultResetDelay) { }

    public TimeSpan ResetDelay { get; } = resetDelay;

    public bool FlowControl { get; } = flowControl;

    public override string Description => FormattableString.Invariant($"UnixTight({ResetDelay.TotalSeconds:0.###}s)");

    protected override async Task RunCoreAsync(LineDriver lines)
    {
        await lines.BothAsync(false, false);
        await lines.BothAsync(true, true);
        await lines.BothAsync(false, true);   // strap high, EN low: in reset
        await lines.WaitAsync(EnterBootDelay);
        await lines.BothAsync(true, false);   // strap low, EN high: boots into download mode
        await lines.WaitAsync(ResetDelay);
        if (FlowControl) return;
        await lines.BothAsync(false, false);
        await lines.DtrAsync(false);          // some adapters drop the last transition; say it again
    }
}

/// <summary>The sequence the chip's own USB-Serial-JTAG peripheral (303A:1001) understands.</summary>
public sealed class UsbJtagSerialReset : ResetStrategy
{
    public override string Description => "UsbJtagSerial";

    protected override async Task RunCoreAsync(LineDriver lines)
    {
        await lines.RtsAsync(false);
        await lines.DtrAsync(false);          // idle
        await lines.WaitAsync(0.1);
        await lines.DtrAsync(true);           // strap low
        await lines.RtsAsync(false);
        await lines.WaitAsync(0.1);
        await lines.RtsAsync(true);           // reset, passing through (1,1) rather than (0,0)
        await lines.DtrAsync(false);
        await lines.RtsAsync(true);           // Windows forwards DTR only with an RTS write
        await lines.WaitAsync(0.1);
        await lines.DtrAsync(false);
        await lines.RtsAsync(false);          // out of reset
    }
}

/// <summary>Pulses EN to restart the chip after an operation (esptool's <c>--after hard-reset</c>).</summary>
public sealed class HardReset(bool usb = false, bool flowControl = false) : ResetStrategy
{
    /// <summary>The chip talks through its own USB peripheral and re-enumerates: longer waits.</summary>
    public bool Usb { get; } = usb;

    public bool FlowControl { get; } = flowControl;

    public override string Description => Usb ? "HardReset(usb)" : "HardReset";

    protected override async Task RunCoreAsync(LineDriver lines)
    {
        if (FlowControl)
        {
            // CP2102C-style adapters: keep DTR asserted while EN is released so an RTS twitch carries DTR along.
            await lines.DtrAsync(false);
            await lines.RtsAsync(true);
            await lines.WaitAsync(0.1);
            await lines.DtrAsync(true);
            await lines.WaitAsync(0.1);
            await lines.RtsAsync(false);
            await lines.DtrAsync(false);
            return;
        }
        await lines.RtsAsync(true);           // EN low
        await lines.WaitAsync(Usb ? 0.2 : 0.1);
        await lines.RtsAsync(false);          // EN high
        if (Usb) await lines.WaitAsync(0.2);
    }
}

/// <summary>Leaves the lines alone (<c>--before no-reset</c>, sockets).</summary>
public sealed class NoReset : ResetStrategy
{
    public override string Description => "NoReset";

    public override bool NeedsLineControl => false;

    protected override Task RunCoreAsync(LineDriver lines) => Task.CompletedTask;
}
