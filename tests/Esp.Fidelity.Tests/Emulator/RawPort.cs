using Esp.Protocol.Commands;
using Esp.Protocol.Framing;

namespace Esp.Fidelity.Tests.Emulator;

/// <summary>
/// Bytes in, reply frames out, with nothing of the engine in between: the same byte stream goes to QEMU's real
/// loader and to the virtual chip, and what comes back is compared.
/// </summary>
public sealed class RawPort(Stream stream) : IAsyncDisposable
{
    private readonly SlipDecoder _decoder = new(64 * 1024);
    private readonly byte[] _buffer = new byte[16384];
    private readonly Queue<byte[]> _frames = new();

    public static byte[] Frame(Opcode op, params uint[] words) => Slip.Encode(Request.Build(op, Request.Words(words)));
    public static byte[] Frame(Opcode op, byte[] data, uint checksum = 0) => Slip.Encode(Request.Build(op, data, checksum));
    public static byte[] DataFrame(Opcode op, byte[] block, uint sequence) => Slip.Encode(Request.BuildData(op, block, sequence));

    public async Task SendAsync(params byte[][] frames)
    {
        await stream.WriteAsync(frames.SelectMany(f => f).ToArray());
        await stream.FlushAsync();
    }

    /// <summary>Reply frames until <paramref name="count"/> have come or none came for <paramref name="quiet"/>.</summary>
    public async Task<List<byte[]>> ReceiveAsync(int count, TimeSpan quiet)
    {
        var frames = new List<byte[]>();
        while (frames.Count < count)
        {
            if (_frames.Count > 0) { frames.Add(_frames.Dequeue()); continue; }
            using var cts = new CancellationTokenSource(quiet);
            int n;
            try { n = await stream.ReadAsync(_buffer, cts.Token); }
            catch (OperationCanceledException) { break; }
            if (n == 0) break;
            for (int i = 0; i < n; i++)
                if (_decoder.Push(_buffer[i]) == SlipEvent.Frame && _decoder.Frame.Length > 0)
                    _frames.Enqueue(_decoder.Frame.ToArray());
        }
        return frames;
    }

    /// <summary>One request, its reply (null when none came).</summary>
    public async Task<byte[]?> TransactAsync(byte[] frame, int replies = 1)
    {
        await SendAsync(frame);
        var got = await ReceiveAsync(replies, TimeSpan.FromSeconds(2));
        return got.Count == replies ? got[^1] : null;
    }

    public ValueTask DisposeAsync() => stream.DisposeAsync();
}
