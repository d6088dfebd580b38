using System.Diagnostics;

namespace Esp.Simulator;

// The auto-reset circuit: DTR/RTS drive EN and IO0; the boot mode is IO0 as sampled one RC delay after EN rises.
public sealed partial class VirtualChip
{
    private readonly Thread _resetThread;
    private readonly AutoResetEvent _resetWake = new(false);
    private readonly List<(long Time, bool Io0Low)> _io0History = new();
    private long _enReleaseTicks = -1;
    private bool _dtr, _rts, _enLow;

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

    /// <summary>Power cycle: flash volatile status restored, registers reset, chip boots (download mode or app).</summary>
    public void PowerOnReset(bool downloadMode = true)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        lock (_stateLock) { _enLow = false; _enReleaseTicks = -1; }
        PostControl(new Control(ControlKind.PowerOn, downloadMode));
    }
}
