using System.Buffers;
using System.Text;
using Esp.Protocol.Errors;
using Esp.Protocol.Framing;
using Esp.Protocol.Transport;

namespace Esp.Protocol.Loader;

/// <summary>
/// Frames packets with SLIP over a transport. Remembers text that arrives outside frames (the ROM's boot
/// log) so that connection failures can say what the chip printed.
/// </summary>
public sealed class SlipLink
{
    private readonly IEspTransport _transport;
    private readonly SlipDecoder _decoder = new(4096);
    private readonly byte[] _readBuffer = new byte[16384];
    private int _readPos, _readLen;
    private readonly StringBuilder _outOfFrame = new();
    private byte[] _writeBuffer = new byte[1024];

    public SlipLink(IEspTransport transport) => _transport = transport;

    public IEspTransport Transport => _transport;

    /// <summary>Optional observer of every packet in both directions.</summary>
    public Action<WireTraceEvent>? Trace { get; set; }

    /// <summary>Bytes received outside frames since the last <see cref="TakeOutOfFrameText"/>.</summary>
    public string TakeOutOfFrameText()
    {
        var s = _outOfFrame.ToString();
        _outOfFrame.Clear();
        return s;
    }

    public long BytesWritten { get; private set; }
    public long BytesRead { get; private set; }

    /// <summary>Sends one packet as a SLIP frame.</summary>
    public async Task SendAsync(ReadOnlyMemory<byte> packet, CancellationToken cancellationToken)
    {
        int max = Slip.MaxEncodedLength(packet.Length);
        if (_writeBuffer.Length < max) _writeBuffer = new byte[Math.Max(max, _writeBuffer.Length * 2)];
        int n = Slip.Encode(packet.Span, _writeBuffer);
        Trace?.Invoke(new WireTraceEvent(true, packet, "frame"));
        await _transport.WriteAsync(_writeBuffer.AsMemory(0, n), cancellationToken).ConfigureAwait(false);
        BytesWritten += n;
    }

    /// <summary>
    /// Sends one frame delimiter on its own. A decoder that toggles on each delimiter (esp-flasher-stub) and lost one
    /// (a session cut mid-frame) reads every later frame from its closing delimiter; one extra delimiter puts it back in step.
    /// </summary>
    public async Task SendDelimiterAsync(CancellationToken cancellationToken)
    {
        Trace?.Invoke(new WireTraceEvent(true, new byte[] { Slip.End }, "delimiter"));
        await _transport.WriteAsync(new byte[] { Slip.End }, cancellationToken).ConfigureAwait(false);
        BytesWritten++;
    }

    /// <summary>Sends several packets in one write (pipelining).</summary>
    public async Task SendManyAsync(IReadOnlyList<byte[]> packets, CancellationToken cancellationToken)
    {
        int max = packets.Sum(p => Slip.MaxEncodedLength(p.Length));
        var buffer = ArrayPool<byte>.Shared.Rent(max);
        try
        {
            int n = 0;
            foreach (var p in packets)
            {
                Trace?.Invoke(new WireTraceEvent(true, p, "frame"));
                n += Slip.Encode(p, buffer.AsSpan(n));
            }
            await _transport.WriteAsync(buffer.AsMemory(0, n), cancellationToken).ConfigureAwait(false);
            BytesWritten += n;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Reads the next frame. Throws <see cref="EspException"/> (Timeout) when nothing complete arrives in time.
    /// Empty frames are returned as empty arrays; callers skip what they do not want.
    /// </summary>
    public async Task<byte[]> ReadFrameAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        bool sawAny = false;
        try
        {
            while (true)
            {
                while (_readPos < _readLen)
                {
                    byte b = _readBuffer[_readPos++];
                    switch (_decoder.Push(b))
                    {
                        case SlipEvent.Frame:
                            var frame = _decoder.Frame.ToArray();
                            Trace?.Invoke(new WireTraceEvent(false, frame, "frame"));
                            return frame;
                        case SlipEvent.OutOfFrame:
                            if (_outOfFrame.Length < 8192) _outOfFrame.Append((char)_decoder.OutOfFrameByte);
                            break;
                        case SlipEvent.BadEscape:
                            Trace?.Invoke(new WireTraceEvent(false, ReadOnlyMemory<byte>.Empty, "bad-escape"));
                            break;
                    }
                }
                _readPos = 0;
                _readLen = await _transport.ReadAsync(_readBuffer, cts.Token).ConfigureAwait(false);
                if (_readLen == 0)
                    throw new EspException(EspErrorCode.Disconnected, $"The link to '{_transport.Name}' was closed by the other side.");
                sawAny = true;
                BytesRead += _readLen;
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new EspException(EspErrorCode.Timeout,
                sawAny || _decoder.InFrame
                    ? $"The chip's reply stopped arriving after {timeout.TotalSeconds:0.###} s."
                    : $"No reply from the chip within {timeout.TotalSeconds:0.###} s.");
        }
    }

    /// <summary>Drops everything received so far (transport buffer, partial frames, boot text).</summary>
    public void DiscardInput()
    {
        _transport.DiscardInput();
        _readPos = _readLen = 0;
        _decoder.Reset();
    }

    /// <summary>Reads and throws away whatever arrives within <paramref name="quiet"/>.</summary>
    public async Task DrainAsync(TimeSpan quiet, CancellationToken cancellationToken)
    {
        _readPos = _readLen = 0;
        _decoder.Reset();
        var buffer = new byte[4096];
        while (true)
        {
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            cts.CancelAfter(quiet);
            try
            {
                int n = await _transport.ReadAsync(buffer, cts.Token).ConfigureAwait(false);
                if (n == 0) return;
                BytesRead += n;
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                return;
            }
        }
    }
}
