using Esp.Protocol.Transport;

namespace Esp.FaultCampaign.Ports;

/// <summary>Hands the host random bytes (SLIP delimiters and escapes among them) before the chip's real output.</summary>
public sealed class NoisyTransport(IEspTransport inner, int seed, int garbageBytes) : IEspTransport
{
    private readonly Random _rng = new(seed ^ 0x6A09E667);
    private int _left = garbageBytes;
    public long Injected { get; private set; }

    public string Name => inner.Name;
    public int BaudRate => inner.BaudRate;
    public bool SupportsLineControl => inner.SupportsLineControl;
    public (int Vid, int Pid)? UsbId => inner.UsbId;
    public Task SetBaudRateAsync(int baud, CancellationToken cancellationToken = default) => inner.SetBaudRateAsync(baud, cancellationToken);
    public Task WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default) => inner.WriteAsync(data, cancellationToken);
    public Task SetLinesAsync(bool? dtr, bool? rts, CancellationToken cancellationToken = default) => inner.SetLinesAsync(dtr, rts, cancellationToken);
    public ValueTask DisposeAsync() => inner.DisposeAsync();

    public void DiscardInput() => inner.DiscardInput();

    public Task<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_left > 0 && buffer.Length > 0)
        {
            int n = Math.Min(Math.Min(_left, buffer.Length), _rng.Next(1, 300));
            var span = buffer.Span[..n];
            for (int i = 0; i < n; i++)
                span[i] = _rng.Next(8) switch { 0 => 0xC0, 1 => 0xDB, 2 => 0x01, _ => (byte)_rng.Next(256) };
            _left -= n;
            Injected++;
            return Task.FromResult(n);
        }
        return inner.ReadAsync(buffer, cancellationToken);
    }
}
