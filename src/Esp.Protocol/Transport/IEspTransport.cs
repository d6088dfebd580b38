namespace Esp.Protocol.Transport;

/// <summary>
/// A byte link to a chip: a serial port, a TCP socket, an RFC 2217 server or the in-process virtual chip.
/// Reads and writes are raw bytes; SLIP framing happens above this layer.
/// </summary>
public interface IEspTransport : IAsyncDisposable
{
    /// <summary>What the user named, e.g. <c>/dev/ttyUSB0</c> or <c>socket://localhost:5555</c>.</summary>
    string Name { get; }

    /// <summary>The host's current baud rate (informational on links that have no baud).</summary>
    int BaudRate { get; }

    /// <summary>Changes the host side's baud rate.</summary>
    Task SetBaudRateAsync(int baud, CancellationToken cancellationToken = default);

    Task WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default);

    /// <summary>Waits for at least one byte; returns 0 only when the link is closed for good.</summary>
    Task<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default);

    /// <summary>Drops bytes received but not yet read.</summary>
    void DiscardInput();

    /// <summary>True when DTR/RTS can be driven (false on a TCP socket or a pseudo-terminal).</summary>
    bool SupportsLineControl { get; }

    /// <summary>
    /// Sets DTR and/or RTS (true = asserted). A null leaves that line as it is. Where the platform can, both
    /// change in one operation. Throws <see cref="Errors.EspException"/> with
    /// <see cref="Errors.EspErrorCode.LineControlUnsupported"/> when the port cannot do it.
    /// </summary>
    Task SetLinesAsync(bool? dtr, bool? rts, CancellationToken cancellationToken = default);

    /// <summary>USB vendor/product id when the port is a USB device; used to pick the reset strategy.</summary>
    (int Vid, int Pid)? UsbId { get; }
}
