using System.Buffers.Binary;

namespace Esp.Simulator;

/// <summary>
/// The serial bootloader protocol: hands each command frame to the ROM loader's or the running flasher stub's
/// command set, which share one download state. Runs on the chip thread only.
/// </summary>
internal sealed class BootloaderProtocol
{
    private readonly DownloadState _download;
    private readonly RomCommands _rom;
    private readonly StubCommands _stub;

    public BootloaderProtocol(ChipProfile profile, VirtualChipOptions options, MemoryBus bus, SimFlash flash, IBootloaderHost host)
    {
        _download = new DownloadState();
        _rom = new RomCommands(profile, options, bus, flash, host, _download);
        _stub = new StubCommands(profile, options, bus, flash, host, _download);
        ResetState();
    }

    public bool InStub { get; private set; }

    /// <summary>The flavour of the last stub started (kept across resets; only meaningful while <see cref="InStub"/>).</summary>
    public StubKind StubKind => _stub.Kind;

    /// <summary>Back to a freshly booted ROM loader.</summary>
    public void ResetState()
    {
        InStub = false;
        _rom.ResetState();
        _download.Reset();
    }

    public void StartStub(StubKind kind)
    {
        ResetState();
        InStub = true;
        _stub.Kind = kind;
    }

    public void Handle(byte[] frame)
    {
        if (frame.Length < 8) return;
        byte op = frame[1];
        int size = BinaryPrimitives.ReadUInt16LittleEndian(frame.AsSpan(2));
        uint checksum = BinaryPrimitives.ReadUInt32LittleEndian(frame.AsSpan(4));
        var data = frame.AsSpan(8);
        if (InStub) _stub.Handle(frame[0], op, size, checksum, data);
        else if (frame[0] == 0) _rom.Handle(op, size, checksum, data);
    }
}
