using System.Net.Sockets;
using Esp.Protocol.Errors;

namespace Esp.Protocol.Transport;

/// <summary>Raw TCP (<c>socket://host:port</c>), as QEMU and ser2net expose a UART. No line control, no baud.</summary>
public static class SocketTransport
{
    public static async Task<IEspTransport> OpenAsync(string port, TransportOptions options, CancellationToken cancellationToken)
    {
        var (host, portNumber) = ParseHostPort(port, "socket://");
        var client = new TcpClient { NoDelay = true };
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.OpenTimeout);
        try
        {
            await client.ConnectAsync(host, portNumber, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            client.Dispose();
            throw new EspException(EspErrorCode.PortNotFound, $"Could not connect to {host}:{portNumber} ({ex.Message}).", inner: ex);
        }
        return new StreamTransport(port, client.GetStream(), options.BaudRate, discardInput: null, owner: new DisposableAdapter(client));
    }

    /// <summary>Parses <c>scheme://host:port</c> (an IPv6 host may be bracketed).</summary>
    public static (string Host, int Port) ParseHostPort(string uri, string prefix)
    {
        var rest = uri[prefix.Length..];
        int slash = rest.IndexOfAny(['/', '?']);
        if (slash >= 0) rest = rest[..slash];
        int colon = rest.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(rest[(colon + 1)..], out var p) || p is <= 0 or > 65535)
            throw new EspException(EspErrorCode.InvalidPortUri, $"'{uri}' is not of the form {prefix}host:port.");
        var host = rest[..colon].Trim('[', ']');
        return (host, p);
    }

    private sealed class DisposableAdapter(IDisposable inner) : IAsyncDisposable
    {
        public ValueTask DisposeAsync()
        {
            inner.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
