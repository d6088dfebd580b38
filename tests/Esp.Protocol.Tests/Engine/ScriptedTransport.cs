using System.Threading.Channels;
using Esp.Protocol.Framing;
using Esp.Protocol.Transport;

namespace Esp.Protocol.Tests.Engine;

/// <summary>A link whose "chip" is a function from request packet to the frames it answers with.</summary>
public sealed class ScriptedTransport(Func<byte[], IEnumerable<byte[]>> answer) : IEspTransport
{
    private readonly Channel<byte[]> _toHost = Channel.CreateUnbounded<byte[]>();
    private readonly SlipDecoder _decoder = new();
    private byte[] _pending = [];
    private int _pos;

    public List<byte[]> Requests { get; } = [];
    public string Name => "scripted";
    public int BaudRate { get; private set; } = 115200;
    public bool SupportsLineControl => false;
    public (int Vid, int Pid)? UsbId => null;

    public Task SetBaudRateAsync(int baud, CancellationToken cancellationToken = default)
    {
        BaudRate = baud;
        return Task.CompletedTask;
    }

    public Task SetLinesAsync(bool? dtr, bool? rts, CancellationToken cancellationToken = default) => throw new NotSupportedException();
    public void DiscardInput() { }

    /// <summary>Raw bytes the chip sends (e.g. noise, boot text).</summary>
    public void Inject(byte[] raw) => _toHost.Writer.TryWrite(raw);

    public Task WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        foreach (var b in data.Span)
        {
            if (_decoder.Push(b) != SlipEvent.Frame || _decoder.Frame.Length == 0) continue;
            var packet = _decoder.Frame.ToArray();
            Requests.Add(packet);
            foreach (var reply in answer(packet)) _toHost.Writer.TryWrite(Slip.Encode(reply));
        }
        return Task.CompletedTask;
    }

    public async Task<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_pos >= _pending.Length)
        {
            _pending = await _toHost.Reader.ReadAsync(cancellationToken);
            _pos = 0;
        }
        int n = Math.Min(buffer.Length, _pending.Length - _pos);
        _pending.AsMemory(_pos, n).CopyTo(buffer);
        _pos += n;
        return n;
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    /// <summary>A response packet: 01 op size value data.</summary>
    public static byte[] Reply(byte op, uint value, params byte[] data)
    {
        var p = new byte[8 + data.Length];
        p[0] = 1;
        p[1] = op;
        BitConverter.TryWriteBytes(p.AsSpan(2), (ushort)data.Length);
        BitConverter.TryWriteBytes(p.AsSpan(4), value);
        data.CopyTo(p, 8);
        return p;
    }
}
