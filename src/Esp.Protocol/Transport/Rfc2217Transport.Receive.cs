using System.Net.Sockets;
using Esp.Protocol.Errors;
using static Esp.Protocol.Transport.TelnetCodec;

namespace Esp.Protocol.Transport;

/// <summary>The receive side: data for the reader, Telnet negotiation answered, COM-PORT-OPTION answers matched.</summary>
public sealed partial class Rfc2217Transport
{
    private async Task ReadLoopAsync()
    {
        var buffer = new byte[4096];
        var data = new List<byte>(4096);
        var commands = new List<TelnetCommand>();
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                int n = await _stream.ReadAsync(buffer, _stop.Token).ConfigureAwait(false);
                if (n == 0) break;
                _telnet.Decode(buffer.AsSpan(0, n), data, commands);
                foreach (var command in commands)
                {
                    if (command.Subnegotiation is { } sub) OnSubnegotiation(sub);
                    else await OnOptionAsync(command.Verb, command.Option).ConfigureAwait(false);
                }
                commands.Clear();
                if (data.Count > 0)
                {
                    _incoming.Writer.TryWrite(data.ToArray());
                    data.Clear();
                }
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or EspException)
        {
            if (!_stop.IsCancellationRequested) _failure = ex;
        }
        finally
        {
            _incoming.Writer.TryComplete();
            if (_comPortAccepted.TrySetException(new EspException(EspErrorCode.Disconnected, $"The RFC 2217 server '{Name}' closed the connection.")))
                _ = _comPortAccepted.Task.Exception; // observed: nobody may be waiting any more
            _answers.FailAll(() => new EspException(EspErrorCode.Disconnected, $"The RFC 2217 server '{Name}' closed the connection."));
        }
    }

    private async Task OnOptionAsync(byte verb, byte option)
    {
        byte[]? reply = _telnet.Answer(verb, option);
        if (option == COM_PORT_OPTION && verb == DO) _comPortAccepted.TrySetResult();
        if (option == COM_PORT_OPTION && verb == DONT)
            _comPortAccepted.TrySetException(new EspException(EspErrorCode.ProtocolViolation,
                $"The server '{Name}' refused the RFC 2217 COM-PORT-OPTION.", "Use socket://host:port for a raw TCP serial bridge."));
        if (reply is not null)
        {
            await _writeLock.WaitAsync(_stop.Token).ConfigureAwait(false);
            try
            {
                await _stream.WriteAsync(reply, _stop.Token).ConfigureAwait(false);
            }
            finally
            {
                _writeLock.Release();
            }
        }
    }

    private void OnSubnegotiation(byte[] sub)
    {
        if (sub.Length < 2 || sub[0] != COM_PORT_OPTION) return;
        // Unsolicited notifications (NOTIFY-LINESTATE, NOTIFY-MODEMSTATE, flow control) need no action here.
        _answers.Complete(sub[1], sub[2..]);
    }
}
