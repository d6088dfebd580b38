using Esp.Protocol.Errors;
using Esp.Protocol.Transport;

namespace Esp.Protocol.Tests.Reset;

/// <summary>A fake link that records every line change and every wait a reset strategy asks for.</summary>
internal sealed class RecordingTransport(string name = "/dev/ttyUSB0", bool lineControl = true, (int, int)? usbId = null)
    : IEspTransport, IModemLineState
{
    public List<string> Log { get; } = [];

    public string Name { get; } = name;
    public int BaudRate => 115200;
    public bool SupportsLineControl { get; } = lineControl;
    public (int Vid, int Pid)? UsbId { get; } = usbId;
    public bool Dtr { get; set; }
    public bool Rts { get; set; }

    public Task SetLinesAsync(bool? dtr, bool? rts, CancellationToken cancellationToken = default)
    {
        if (!SupportsLineControl) throw new EspException(EspErrorCode.LineControlUnsupported, "no lines");
        Log.Add((dtr, rts) switch
        {
            ({ } d, { } r) => $"U{B(d)},{B(r)}",
            ({ } d, null) => $"D{B(d)}",
            (null, { } r) => $"R{B(r)}",
            _ => "none",
        });
        if (dtr is { } dd) Dtr = dd;
        if (rts is { } rr) Rts = rr;
        return Task.CompletedTask;

        static int B(bool b) => b ? 1 : 0;
    }

    /// <summary>A delay function for <see cref="Esp.Protocol.Loader.Reset.ResetStrategy.Delay"/>.</summary>
    public Task RecordDelay(TimeSpan t, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        Log.Add(FormattableString.Invariant($"W{t.TotalSeconds:0.###}"));
        return Task.CompletedTask;
    }

    public string Sequence => string.Join("|", Log);

    public Task SetBaudRateAsync(int baud, CancellationToken cancellationToken = default) => Task.CompletedTask;
    public Task WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default) => Task.CompletedTask;
    public Task<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => Task.FromResult(0);
    public void DiscardInput() { }
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
