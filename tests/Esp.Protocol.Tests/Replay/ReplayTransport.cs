using System.Threading.Channels;
using Esp.Protocol.Framing;
using Esp.Protocol.Transport;

namespace Esp.Protocol.Tests.Replay;

/// <summary>
/// Plays the chip's side of a golden trace: every frame the engine sends must equal the next host packet of
/// the trace (its recorded prefix when the trace truncated it), and is answered with the chip packets that
/// followed it in the recording. A mismatch fails the test with both packets shown.
/// </summary>
public sealed class ReplayTransport : IEspTransport
{
    private readonly IReadOnlyList<TraceEntry> _trace;
    private readonly int _end;
    private readonly Func<TraceEntry, byte[]>? _expandChipPacket;
    private readonly Channel<byte[]> _toHost = Channel.CreateUnbounded<byte[]>();
    private readonly SlipDecoder _decoder = new();
    private byte[] _pending = [];
    private int _pendingPos;

    public ReplayTransport(IReadOnlyList<TraceEntry> trace, int start, int end = -1, Func<TraceEntry, byte[]>? expandChipPacket = null)
    {
        _trace = trace;
        Position = start;
        _end = end < 0 ? trace.Count : end;
        _expandChipPacket = expandChipPacket;
        DeliverChipPackets();
    }

    /// <summary>Index of the next trace entry to be matched or delivered.</summary>
    public int Position { get; private set; }

    public List<string> Mismatches { get; } = [];
    public List<byte[]> HostPackets { get; } = [];

    public string Name => "replay";
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

    public Task WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        foreach (var b in data.Span)
        {
            if (_decoder.Push(b) != SlipEvent.Frame || _decoder.Frame.Length == 0) continue;
            var packet = _decoder.Frame.ToArray();
            HostPackets.Add(packet);
            while (Position < _end && (!_trace[Position].IsFrame || !_trace[Position].FromHost)) Position++;
            if (Position >= _end)
            {
                Mismatches.Add($"extra host packet {Convert.ToHexStringLower(packet)}");
                continue;
            }
            var expected = _trace[Position];
            bool truncated = expected.TruncatedFrom is not null || expected.Elided;
            bool same = truncated
                ? packet.Length >= expected.Packet!.Length && packet.AsSpan(0, expected.Packet.Length).SequenceEqual(expected.Packet)
                : packet.AsSpan().SequenceEqual(expected.Packet);
            if (!same)
                Mismatches.Add($"line {expected.Line} ({expected.Note}): expected {Convert.ToHexStringLower(expected.Packet!)}, got {Convert.ToHexStringLower(packet)}");
            Position++;
            DeliverChipPackets();
        }
        return Task.CompletedTask;
    }

    private void DeliverChipPackets()
    {
        while (Position < _end && !_trace[Position].FromHost)
        {
            var e = _trace[Position++];
            if (!e.IsFrame) continue;
            var packet = e.TruncatedFrom is not null && _expandChipPacket is not null ? _expandChipPacket(e) : e.Packet!;
            _toHost.Writer.TryWrite(Slip.Encode(packet));
        }
    }

    public async Task<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_pendingPos >= _pending.Length)
        {
            _pending = await _toHost.Reader.ReadAsync(cancellationToken);
            _pendingPos = 0;
        }
        int n = Math.Min(buffer.Length, _pending.Length - _pendingPos);
        _pending.AsMemory(_pendingPos, n).CopyTo(buffer);
        _pendingPos += n;
        return n;
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
