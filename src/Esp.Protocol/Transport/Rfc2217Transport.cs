using System.Globalization;
using System.Net.Sockets;
using System.Threading.Channels;
using Esp.Protocol.Errors;
using static Esp.Protocol.Transport.TelnetCodec;

namespace Esp.Protocol.Transport;

/// <summary>
/// RFC 2217 client (<c>rfc2217://host:port[?ign_set_control][&amp;timeout=seconds]</c>), as served by
/// esp_rfc2217_server, pyserial's rfc2217 server, ser2net or a network serial adapter. Telnet negotiation,
/// COM-PORT-OPTION settings, DTR/RTS through SET-CONTROL (waiting for the server's acknowledgement so that
/// reset timing holds), and 0xFF escaping of data in both directions.
/// </summary>
public sealed partial class Rfc2217Transport : IEspTransport, IModemLineState
{
    private readonly TcpClient _client;
    private readonly NetworkStream _stream;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly Channel<byte[]> _incoming = Channel.CreateUnbounded<byte[]>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    private readonly ComPortAnswers _answers = new();
    private readonly TelnetCodec _telnet = new();
    private readonly TaskCompletionSource _comPortAccepted = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stop = new();
    private readonly bool _ignoreSetControlAnswer;
    private readonly TimeSpan _networkTimeout;
    private Task _readLoop = Task.CompletedTask;
    private ReadOnlyMemory<byte> _pending;
    private Exception? _failure;
    private bool _dtr;
    private bool _rts;
    private volatile bool _linesRefused;
    private int _disposed;

    private Rfc2217Transport(string name, TcpClient client, int baud, bool ignoreSetControlAnswer, TimeSpan networkTimeout)
    {
        Name = name;
        _client = client;
        _stream = client.GetStream();
        BaudRate = baud;
        _ignoreSetControlAnswer = ignoreSetControlAnswer;
        _networkTimeout = networkTimeout;
    }

    /// <summary>Connects, negotiates the Telnet options and sets 8N1 at <see cref="TransportOptions.BaudRate"/>.</summary>
    /// <exception cref="EspException">InvalidPortUri, PortNotFound (no connection) or ProtocolViolation (not an RFC 2217 server).</exception>
    public static async Task<IEspTransport> OpenAsync(string port, TransportOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        var (host, portNumber) = SocketTransport.ParseHostPort(port, "rfc2217://");
        var (ignoreSetControl, timeout) = ParseQuery(port);
        timeout ??= TimeSpan.FromSeconds(3);

        var client = new TcpClient { NoDelay = true };
        using (var connectTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            connectTimeout.CancelAfter(options.OpenTimeout);
            try
            {
                await client.ConnectAsync(host, portNumber, connectTimeout.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is SocketException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                client.Dispose();
                throw new EspException(EspErrorCode.PortNotFound, $"Could not connect to the RFC 2217 server {host}:{portNumber} ({ex.Message}).", inner: ex);
            }
        }

        var transport = new Rfc2217Transport(port, client, options.BaudRate, ignoreSetControl, timeout.Value);
        try
        {
            await transport.NegotiateAsync(cancellationToken).ConfigureAwait(false);
            return transport;
        }
        catch
        {
            await transport.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private static (bool IgnoreSetControl, TimeSpan? Timeout) ParseQuery(string uri)
    {
        int q = uri.IndexOf('?', StringComparison.Ordinal);
        if (q < 0) return (false, null);
        bool ign = false;
        TimeSpan? timeout = null;
        foreach (var part in uri[(q + 1)..].Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var kv = part.Split('=', 2);
            switch (kv[0].ToLowerInvariant())
            {
                case "ign_set_control":
                    ign = true;
                    break;
                case "timeout" when kv.Length == 2 && double.TryParse(kv[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var s) && s > 0 && double.IsFinite(s):
                    timeout = TimeSpan.FromSeconds(s);
                    break;
                case "logging" or "poll_modem":
                    break; // pyserial options that change nothing here
                default:
                    throw new EspException(EspErrorCode.InvalidPortUri,
                        $"Unknown or malformed option '{part}' in '{uri}'.",
                        "RFC 2217 ports take ?ign_set_control and &timeout=<seconds>.");
            }
        }
        return (ign, timeout);
    }

    public string Name { get; }

    public int BaudRate { get; private set; }

    /// <summary>True until the server leaves a DTR/RTS change unacknowledged (it cannot drive the lines).</summary>
    public bool SupportsLineControl => !_linesRefused;

    public (int Vid, int Pid)? UsbId => null;

    public bool Dtr => _dtr;

    public bool Rts => _rts;

    private async Task NegotiateAsync(CancellationToken ct)
    {
        var offer = _telnet.Offer();
        _readLoop = Task.Run(ReadLoopAsync);
        await SendRawAsync(offer, ct).ConfigureAwait(false);

        try
        {
            await _comPortAccepted.Task.WaitAsync(_networkTimeout, ct).ConfigureAwait(false);
        }
        catch (TimeoutException ex)
        {
            throw new EspException(EspErrorCode.ProtocolViolation,
                $"'{Name}' did not agree to the RFC 2217 COM-PORT-OPTION within {_networkTimeout.TotalSeconds:0.#} s; it may be a plain TCP port.",
                "Use socket://host:port for a raw TCP serial bridge, or check the server.", ex);
        }

        // Send all settings first, then wait for the answers, as the ports' settings go together.
        var acks = new[]
        {
            SendCommandAsync(SET_BAUDRATE, BaudValue(BaudRate), ct),
            SendCommandAsync(SET_DATASIZE, [8], ct),
            SendCommandAsync(SET_PARITY, [PARITY_NONE], ct),
            SendCommandAsync(SET_STOPSIZE, [STOPSIZE_1], ct),
        };
        await AwaitAcksAsync(acks, "port settings (baud rate, 8N1)", ct).ConfigureAwait(false);
        await SetControlAsync([CONTROL_NO_FLOW], ct).ConfigureAwait(false);
    }

    public async Task SetBaudRateAsync(int baud, CancellationToken cancellationToken = default)
    {
        if (baud <= 0) throw new EspException(EspErrorCode.InvalidArgument, $"The baud rate {baud} is not valid.");
        await AwaitAcksAsync([SendCommandAsync(SET_BAUDRATE, BaudValue(baud), cancellationToken)], "SET-BAUDRATE", cancellationToken).ConfigureAwait(false);
        BaudRate = baud;
    }

    public async Task SetLinesAsync(bool? dtr, bool? rts, CancellationToken cancellationToken = default)
    {
        var values = new List<byte>(2);
        if (dtr is { } d) values.Add(d ? DTR_ON : DTR_OFF);
        if (rts is { } r) values.Add(r ? RTS_ON : RTS_OFF);
        if (values.Count == 0) return;
        await SetModemLinesAsync(values, cancellationToken).ConfigureAwait(false);
        if (dtr is { } dd) _dtr = dd;
        if (rts is { } rr) _rts = rr;
    }

    /// <summary>Sends SET-CONTROL values back to back, then waits for every acknowledgement.</summary>
    private async Task SetControlAsync(IReadOnlyList<byte> values, CancellationToken ct)
    {
        var acks = values.Select(v => SendCommandAsync(SET_CONTROL, [v], ct, expectAnswer: !_ignoreSetControlAnswer)).ToArray();
        if (_ignoreSetControlAnswer)
        {
            await Task.WhenAll(acks).ConfigureAwait(false);
            // The server's answers are not trusted in this mode; give it time to apply the change instead.
            await Task.Delay(TimeSpan.FromMilliseconds(100), ct).ConfigureAwait(false);
            return;
        }
        await AwaitAcksAsync(acks, "SET-CONTROL (DTR/RTS)", ct).ConfigureAwait(false);
    }

    /// <summary>
    /// DTR/RTS through SET-CONTROL. A server that cannot drive the lines (ser2net on a device without modem control,
    /// such as a pseudo-terminal) answers the other requests but leaves these unanswered: the port then counts as
    /// one without line control, as a serial port whose DTR/RTS ioctls fail does.
    /// </summary>
    private async Task SetModemLinesAsync(IReadOnlyList<byte> values, CancellationToken ct)
    {
        if (_linesRefused) throw LinesRefused(null);
        try
        {
            await SetControlAsync(values, ct).ConfigureAwait(false);
        }
        catch (EspException ex) when (ex.Code == EspErrorCode.Timeout)
        {
            _linesRefused = true;
            throw LinesRefused(ex);
        }
    }

    private EspException LinesRefused(Exception? inner) =>
        new(EspErrorCode.LineControlUnsupported,
            $"The RFC 2217 server '{Name}' did not acknowledge SET-CONTROL (DTR/RTS) within {_networkTimeout.TotalSeconds:0.#} s: " +
            "it cannot drive DTR/RTS on its serial port, so the chip cannot be reset into download mode automatically.",
            "Put the chip in download mode by hand and use --before no-reset (EspBefore=no-reset); " +
            "if the server does drive the lines but never answers, append ?ign_set_control to the port.", inner);

    private async Task AwaitAcksAsync(Task<Task<byte[]>>[] sends, string what, CancellationToken ct)
    {
        var waits = await Task.WhenAll(sends).ConfigureAwait(false);
        try
        {
            await Task.WhenAll(waits).WaitAsync(_networkTimeout, ct).ConfigureAwait(false);
        }
        catch (TimeoutException ex)
        {
            _answers.Forget();
            throw new EspException(EspErrorCode.Timeout,
                $"The RFC 2217 server '{Name}' did not acknowledge {what} within {_networkTimeout.TotalSeconds:0.#} s.",
                "Check the server; for servers that never answer SET-CONTROL append ?ign_set_control to the port.", ex);
        }
    }

    /// <summary>Sends <c>IAC SB COM-PORT-OPTION cmd value IAC SE</c>; the returned task completes on the server's answer.</summary>
    private async Task<Task<byte[]>> SendCommandAsync(byte command, byte[] value, CancellationToken ct, bool expectAnswer = true)
    {
        var frame = ComPortCommand(command, value);

        Task<byte[]> answer = Task.FromResult(Array.Empty<byte>());
        await _writeLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (expectAnswer) answer = _answers.Expect(command);
            await WriteStreamAsync(frame, ct).ConfigureAwait(false);
        }
        finally
        {
            _writeLock.Release();
        }
        return answer;
    }

    public async Task WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        if (data.IsEmpty) return;
        byte[] escaped = Escape(data.Span);
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await WriteStreamAsync(escaped, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private async Task SendRawAsync(byte[] bytes, CancellationToken ct)
    {
        await _writeLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            await WriteStreamAsync(bytes, ct).ConfigureAwait(false);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private async Task WriteStreamAsync(byte[] bytes, CancellationToken ct)
    {
        try
        {
            await _stream.WriteAsync(bytes, ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or SocketException)
        {
            throw new EspException(EspErrorCode.Disconnected, $"The link to '{Name}' failed: {ex.Message}", inner: ex);
        }
    }

    public async Task<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.IsEmpty) return 0;
        while (_pending.IsEmpty)
        {
            if (_incoming.Reader.TryRead(out var chunk))
            {
                _pending = chunk;
                break;
            }
            try
            {
                if (!await _incoming.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    if (_failure is not null)
                        throw new EspException(EspErrorCode.Disconnected, $"The link to '{Name}' failed: {_failure.Message}", inner: _failure);
                    return 0;
                }
            }
            catch (ChannelClosedException ex)
            {
                throw new EspException(EspErrorCode.Disconnected, $"The link to '{Name}' failed: {ex.InnerException?.Message ?? ex.Message}", inner: ex);
            }
        }
        int n = Math.Min(buffer.Length, _pending.Length);
        _pending[..n].CopyTo(buffer);
        _pending = _pending[n..];
        return n;
    }

    /// <summary>
    /// Drops data received but not read. Only the local buffer is cleared: a PURGE-DATA sent now could reach the
    /// server after the chip has already answered the next command and throw that answer away.
    /// </summary>
    public void DiscardInput()
    {
        _pending = default;
        while (_incoming.Reader.TryRead(out _)) { }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            _client.Client.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
        }
        _client.Dispose();
        try
        {
            await _readLoop.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or ObjectDisposedException)
        {
        }
        _stop.Dispose();
        _writeLock.Dispose();
    }
}
