using Esp.Protocol.Errors;
using Esp.Protocol.Transport;

namespace Esp.Reliability.Tests;

/// <summary>
/// Passes every host write through a function (one SLIP frame per write, as SlipLink sends them), and optionally what
/// the chip sends, read by read, through another (<paramref name="tamperReads"/> changes bytes in place).
/// </summary>
public sealed class TamperingTransport(IEspTransport inner, Func<byte[], byte[]> tamper, Action<Span<byte>>? tamperReads = null) : IEspTransport
{
    public string Name => inner.Name;
    public int BaudRate => inner.BaudRate;
    public bool SupportsLineControl => inner.SupportsLineControl;
    public (int Vid, int Pid)? UsbId => inner.UsbId;
    public Task SetBaudRateAsync(int baud, CancellationToken cancellationToken = default) => inner.SetBaudRateAsync(baud, cancellationToken);
    public Task WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default) => inner.WriteAsync(tamper(data.ToArray()), cancellationToken);
    public async Task<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        int n = await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        tamperReads?.Invoke(buffer.Span[..n]);
        return n;
    }
    public void DiscardInput() => inner.DiscardInput();
    public Task SetLinesAsync(bool? dtr, bool? rts, CancellationToken cancellationToken = default) => inner.SetLinesAsync(dtr, rts, cancellationToken);
    public ValueTask DisposeAsync() => inner.DisposeAsync();

    /// <summary>
    /// Lets the first frame carrying one of <paramref name="opcodes"/> through, then fails every later write as a
    /// pulled cable does (the chip still runs the command it got).
    /// </summary>
    public static Func<byte[], byte[]> DisconnectAfter(params byte[] opcodes)
    {
        bool seen = false;
        return frame =>
        {
            if (seen) throw new EspException(EspErrorCode.Disconnected, "The link was cut.");
            seen = frame.Length > 2 && frame[0] == 0xC0 && frame[1] == 0x00 && opcodes.Contains(frame[2]);
            return frame;
        };
    }

    /// <summary>Fails the first write of a frame carrying one of <paramref name="opcodes"/>, and every write after it.</summary>
    public static Func<byte[], byte[]> DisconnectAt(params byte[] opcodes)
    {
        bool cut = false;
        return frame =>
        {
            cut |= frame.Length > 2 && frame[0] == 0xC0 && frame[1] == 0x00 && opcodes.Contains(frame[2]);
            return cut ? throw new EspException(EspErrorCode.Disconnected, "The link was cut.") : frame;
        };
    }

    /// <summary>Drops one byte from the middle of the first <paramref name="count"/> frames carrying <paramref name="opcode"/>.</summary>
    public static Func<byte[], byte[]> DropByteIn(byte opcode, int count = 1)
    {
        int left = count;
        return frame =>
        {
            if (left > 0 && frame.Length > 40 && frame[0] == 0xC0 && frame[1] == 0x00 && frame[2] == opcode)
            {
                left--;
                int at = frame.Length / 2;
                if (frame[at] == 0xDB || frame[at - 1] == 0xDB) at = 30; // keep escapes intact
                return [.. frame.AsSpan(0, at), .. frame.AsSpan(at + 1)];
            }
            return frame;
        };
    }

    /// <summary>Flips one bit in the data of the first <paramref name="count"/> replies to <paramref name="opcode"/> that arrive whole in one read.</summary>
    public static Action<Span<byte>> FlipBitInReplyTo(byte opcode, int count = 1)
    {
        int left = count;
        return bytes =>
        {
            for (int i = 0; left > 0 && i + 24 < bytes.Length; i++)
            {
                if (bytes[i] != 0xC0 || bytes[i + 1] != 0x01 || bytes[i + 2] != opcode) continue;
                int at = i + 20; // past the 8-byte header, inside the data
                if (bytes[at] is 0xC0 or 0xDB or 0xDC or 0xDD || bytes[at - 1] == 0xDB) continue;
                bytes[at] ^= 0x10;
                if (bytes[at] is 0xC0 or 0xDB) bytes[at] ^= 0x30; // stay a plain byte: a damaged value, not a damaged frame
                left--;
            }
        };
    }
}

/// <summary>
/// Puts bytes in front of the first reply to <c>opcode</c> that comes after <see cref="Arm"/>: a reply from out of nowhere
/// that reaches the host just before the real one.
/// </summary>
public sealed class InjectingTransport(IEspTransport inner, byte opcode, byte[] injected) : IEspTransport
{
    private readonly Queue<byte> _pending = new();
    private volatile bool _armed;

    public string Name => inner.Name;
    public int BaudRate => inner.BaudRate;
    public bool SupportsLineControl => inner.SupportsLineControl;
    public (int Vid, int Pid)? UsbId => inner.UsbId;
    public Task SetBaudRateAsync(int baud, CancellationToken cancellationToken = default) => inner.SetBaudRateAsync(baud, cancellationToken);
    public Task WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default) => inner.WriteAsync(data, cancellationToken);

    /// <summary>The next reply to the opcode gets the bytes in front of it.</summary>
    public void Arm() => _armed = true;

    public bool Injected { get; private set; }

    public async Task<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_pending.Count == 0)
        {
            var chunk = new byte[buffer.Length];
            int n = await inner.ReadAsync(chunk, cancellationToken).ConfigureAwait(false);
            int at = _armed ? chunk.AsSpan(0, n).IndexOf(new byte[] { 0xC0, 0x01, opcode }) : -1;
            for (int i = 0; i < n; i++)
            {
                if (i == at)
                {
                    foreach (var b in injected) _pending.Enqueue(b);
                    _armed = false;
                    Injected = true;
                }
                _pending.Enqueue(chunk[i]);
            }
            if (n == 0) return 0;
        }
        int count = 0;
        while (count < buffer.Length && _pending.TryDequeue(out var next)) buffer.Span[count++] = next;
        return count;
    }

    public void DiscardInput()
    {
        _pending.Clear();
        inner.DiscardInput();
    }

    public Task SetLinesAsync(bool? dtr, bool? rts, CancellationToken cancellationToken = default) => inner.SetLinesAsync(dtr, rts, cancellationToken);
    public ValueTask DisposeAsync() => inner.DisposeAsync();
}
