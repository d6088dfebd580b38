using Esp.Protocol.Errors;
using Esp.Protocol.Transport;

namespace Esp.Reliability.Tests;

/// <summary>Passes every host write through a function (one SLIP frame per write, as SlipLink sends them).</summary>
public sealed class TamperingTransport(IEspTransport inner, Func<byte[], byte[]> tamper) : IEspTransport
{
    public string Name => inner.Name;
    public int BaudRate => inner.BaudRate;
    public bool SupportsLineControl => inner.SupportsLineControl;
    public (int Vid, int Pid)? UsbId => inner.UsbId;
    public Task SetBaudRateAsync(int baud, CancellationToken cancellationToken = default) => inner.SetBaudRateAsync(baud, cancellationToken);
    public Task WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default) => inner.WriteAsync(tamper(data.ToArray()), cancellationToken);
    public Task<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => inner.ReadAsync(buffer, cancellationToken);
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
}
