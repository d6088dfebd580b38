using Esp.Protocol.Errors;

namespace Esp.Protocol.Transport;

/// <summary>Local serial ports. (Being implemented: System.IO.Ports with native DTR/RTS control.)</summary>
public static class SerialTransport
{
    public static IEspTransport Open(string port, TransportOptions options) =>
        throw new EspException(EspErrorCode.PortNotFound, $"Serial port '{port}' cannot be opened yet.");
}
