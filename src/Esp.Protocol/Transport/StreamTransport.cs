using Esp.Protocol.Errors;

namespace Esp.Protocol.Transport;

/// <summary>
/// A transport over any duplex <see cref="Stream"/> (a TCP stream, a pseudo-terminal, the virtual chip's
/// in-process link). Line control and baud changes are optional callbacks.
/// </summary>
public class StreamTransport : IEspTransport
{
    private readonly Stream _stream;
    private readonly Func<bool?, bool?, CancellationToken, Task>? _setLines;
    private readonly Func<int, CancellationToken, Task>? _setBaud;
    private readonly Action? _discard;
    private readonly IAsyncDisposable? _owner;

    public StreamTransport(
        string name,
        Stream stream,
        int baudRate = 115200,
        Func<bool?, bool?, CancellationToken, Task>? setLines = null,
        Func<int, CancellationToken, Task>? setBaud = null,
        Action? discardInput = null,
        IAsyncDisposable? owner = null)
    {
        Name = name;
        _stream = stream;
        BaudRate = baudRate;
        _setLines = setLines;
        _setBaud = setBaud;
        _discard = discardInput;
        _owner = owner;
    }

    public string Name { get; }
    public int BaudRate { get; private set; }
    public bool SupportsLineControl => _setLines is not null;
    public (int Vid, int Pid)? UsbId => null;

    public async Task SetBaudRateAsync(int baud, CancellationToken cancellationToken = default)
    {
        if (_setBaud is not null) await _setBaud(baud, cancellationToken).ConfigureAwait(false);
        BaudRate = baud;
    }

    public Task WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default) =>
        WrapIo(async () =>
        {
            await _stream.WriteAsync(data, cancellationToken).ConfigureAwait(false);
            await _stream.FlushAsync(cancellationToken).ConfigureAwait(false);
            return 0;
        });

    public Task<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        WrapIo(() => _stream.ReadAsync(buffer, cancellationToken).AsTask());

    public virtual void DiscardInput() => _discard?.Invoke();

    public Task SetLinesAsync(bool? dtr, bool? rts, CancellationToken cancellationToken = default)
    {
        if (_setLines is null)
            throw new EspException(EspErrorCode.LineControlUnsupported,
                $"The port '{Name}' cannot drive DTR/RTS, so the chip cannot be reset into download mode automatically.");
        return _setLines(dtr, rts, cancellationToken);
    }

    private async Task<T> WrapIo<T>(Func<Task<T>> io)
    {
        try
        {
            return await io().ConfigureAwait(false);
        }
        catch (IOException ex)
        {
            throw new EspException(EspErrorCode.Disconnected, $"The link to '{Name}' failed: {ex.Message}", inner: ex);
        }
        catch (ObjectDisposedException ex)
        {
            throw new EspException(EspErrorCode.Disconnected, $"The link to '{Name}' was closed.", inner: ex);
        }
    }

    public virtual async ValueTask DisposeAsync()
    {
        await _stream.DisposeAsync().ConfigureAwait(false);
        if (_owner is not null) await _owner.DisposeAsync().ConfigureAwait(false);
        GC.SuppressFinalize(this);
    }
}
