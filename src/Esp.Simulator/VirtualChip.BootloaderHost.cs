namespace Esp.Simulator;

public sealed partial class VirtualChip
{
    /// <summary>What the bootloader protocol does to the chip: send, receive, wait, change baud, leave or reboot.</summary>
    private sealed class BootloaderHost(VirtualChip chip) : IBootloaderHost
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
            chip._protocol.StartStub(kind);
            chip._mode = ChipMode.Stub;
            Send("OHAI"u8);
        }

        public void SoftwareReboot()
        {
            // CPU reset back into the ROM loader (strapping latched at power-on). Peripherals keep their registers
            // (the ESP32 trace after the legacy stub's exit shows SPI_USER unchanged) except SPI_USER2, which the ROM's
            // start-up code sets again; no banner (the traces show none).
            chip._protocol.ResetState();
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
