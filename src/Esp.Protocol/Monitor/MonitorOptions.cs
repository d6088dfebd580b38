using Esp.Protocol.Transport;

namespace Esp.Protocol.Monitor;

/// <summary>What <see cref="SerialMonitor"/> listens to, and when it stops.</summary>
public sealed record MonitorOptions
{
    /// <summary>Serial device, COM name, <c>socket://</c>, <c>rfc2217://</c> or a registered scheme such as <c>sim:</c>.</summary>
    public string Port { get; init; } = "";

    /// <summary>An already open link (tests, or a session's transport); it is left open. <see cref="Port"/> is then unused.</summary>
    public IEspTransport? Transport { get; init; }

    /// <summary>The application's console baud rate (ESP-IDF and Arduino default to 115200).</summary>
    public int Baud { get; init; } = 115200;

    /// <summary>
    /// Reset the chip into its application first (EN pulsed with the boot strap released), so the output starts with
    /// the ROM's boot text. Ports that cannot drive DTR/RTS are left alone, with a warning.
    /// </summary>
    public bool ResetIntoApp { get; init; } = true;

    /// <summary>Stop with success as soon as a line contains this text (ordinal match within one line).</summary>
    public string? Until { get; init; }

    /// <summary>
    /// How long to listen at most. With <see cref="Until"/> running out of time is a failure; without it, the
    /// listening simply ends (a timed capture).
    /// </summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>Clock for timestamps and the timeout.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>Status lines ("Monitoring /dev/ttyUSB0 at 115200 Bd").</summary>
    public Action<string>? Log { get; init; }

    /// <summary>Warnings (the port cannot reset the chip).</summary>
    public Action<string>? Warning { get; init; }
}
