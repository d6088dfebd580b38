using Esp.Protocol.Errors;

namespace Esp.Protocol.Transport;

/// <summary>RFC 2217 client. (Being implemented.)</summary>
public static class Rfc2217Transport
{
    public static Task<IEspTransport> OpenAsync(string port, TransportOptions options, CancellationToken cancellationToken) =>
        throw new EspException(EspErrorCode.PortNotFound, $"RFC 2217 port '{port}' cannot be opened yet.");
}
