using Esp.Protocol.Transport;

namespace Esp.Bench;

/// <summary>
/// An in-process link that answers every request at once with a stub-style success reply (and SPI_FLASH_MD5
/// with <see cref="Md5"/>). Everything completes synchronously and the sink allocates nothing per packet, so the
/// allocations measured around an operation are the engine's own. Used for the CPU and memory figures only.
/// </summary>
public sealed class SinkTransport : IEspTransport
{
    private readonly byte[] _out = new byte[1 << 16];
    private int _outStart, _outEnd;
    private bool _inFrame;
    private int _frameIndex;
    private byte _op;
    private readonly Dictionary<int, Task<int>> _results = new();

    public string Name => "sink";
    public int BaudRate => 921600;
    public bool SupportsLineControl => false;
    public (int Vid, int Pid)? UsbId => null;
    public long Frames { get; private set; }
    public long BytesIn { get; private set; }

    /// <summary>The 16 raw MD5 bytes to answer SPI_FLASH_MD5 with.</summary>
    public byte[] Md5 { get; set; } = new byte[16];

    public Task SetBaudRateAsync(int baud, CancellationToken cancellationToken = default) => Task.CompletedTask;
    public Task SetLinesAsync(bool? dtr, bool? rts, CancellationToken cancellationToken = default) => Task.CompletedTask;
    public void DiscardInput() => _outStart = _outEnd = 0;
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    public Task WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        BytesIn += data.Length;
        foreach (var b in data.Span)
        {
            if (b == 0xC0)
            {
                if (_inFrame && _frameIndex > 0) Reply();
                _inFrame = true;
                _frameIndex = 0;
                continue;
            }
            if (_inFrame && _frameIndex++ == 1) _op = b;
        }
        return Task.CompletedTask;
    }

    private void Reply()
    {
        Frames++;
        _inFrame = false;
        if (_outEnd + 64 > _out.Length)
        {
            Array.Copy(_out, _outStart, _out, 0, _outEnd - _outStart);
            _outEnd -= _outStart;
            _outStart = 0;
        }
        bool md5 = _op == 0x13;
        int dataLen = md5 ? 16 : 0;
        Span<byte> pkt = stackalloc byte[8 + 16 + 2];
        pkt.Clear();
        pkt[0] = 1; pkt[1] = _op; pkt[2] = (byte)(dataLen + 2);
        if (md5) Md5.CopyTo(pkt[8..]);
        var span = _out.AsSpan(_outEnd);
        int n = Esp.Protocol.Framing.Slip.Encode(pkt[..(8 + dataLen + 2)], span);
        _outEnd += n;
    }

    public Task<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        int n = Math.Min(buffer.Length, _outEnd - _outStart);
        if (n == 0) throw new InvalidOperationException("The engine waits for a reply the sink did not produce.");
        _out.AsSpan(_outStart, n).CopyTo(buffer.Span);
        _outStart += n;
        if (!_results.TryGetValue(n, out var t)) _results[n] = t = Task.FromResult(n);
        return t;
    }
}
