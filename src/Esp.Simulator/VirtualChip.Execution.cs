using System.Diagnostics;
using System.Text;

namespace Esp.Simulator;

// The chip's execution thread: it applies resets posted by the host side, reads command frames and hands them to the
// bootloader protocol, with the command-level faults (watchdog resets, late replies) drawn on the way.
public sealed partial class VirtualChip
{
    private readonly Thread _thread;
    private readonly Random _cmdRng;
    private readonly Queue<Control> _control = new();

    private enum ControlKind { PowerOn, EnLow, EnRelease }

    /// <summary>A reset the host side asks the chip thread to carry out; <see cref="Done"/> is set when it has.</summary>
    private sealed class Control(ControlKind kind, bool download)
    {
        public readonly ControlKind Kind = kind;
        public readonly bool Download = download;
        public readonly ManualResetEventSlim Done = new(false);
    }

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
                _protocol.Handle(frame);
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
        _protocol.ResetState();
        lock (_stateLock) { _chipBaud = Options.InitialBaud; _baudLocked = false; }
        lock (_txLock) _txHoldUntil = 0;
        _mode = download ? ChipMode.RomLoader : ChipMode.BootedApp;
        if (Options.PrintBootBanner)
        {
            var text = banner ?? (download ? _profile.BannerDownload : _profile.BannerApp + RomBootText.For(_profile.BootText, Flash));
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
}
