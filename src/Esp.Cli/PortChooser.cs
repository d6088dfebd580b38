using Esp.Protocol.Errors;

namespace Esp.Cli;

/// <summary>Picks the port when none was given.</summary>
internal static class PortChooser
{
    public static string Choose(Output output)
    {
        var names = System.IO.Ports.SerialPort.GetPortNames();
        throw new EspException(EspErrorCode.PortNotSpecified,
            names.Length == 0 ? "No port was given and no serial ports were found." : $"No port was given; candidates: {string.Join(", ", names)}.",
            "Pass --port (or set ESPTOOL_PORT), e.g. --port /dev/ttyUSB0 or --port sim:esp32.");
    }
}
