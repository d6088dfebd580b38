namespace Esp.Simulator;

/// <summary>What the bootloader protocol needs from the chip runtime.</summary>
internal interface IBootloaderHost
{
    void Send(ReadOnlySpan<byte> packet);
    void SendRaw(ReadOnlySpan<byte> bytes);
    /// <summary>Blocks for the next SLIP frame; throws <see cref="ChipInterruptedException"/> when the chip is reset.</summary>
    byte[] ReadFrame();
    void Sleep(TimeSpan t);
    void SetChipBaud(int baud);
    void LeaveLoader(ChipMode mode, uint? entry);
    void EnterStub(StubKind kind, uint entry);
    void SoftwareReboot();
    void RecordSegment(LoadedSegment segment);
}
