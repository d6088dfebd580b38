namespace Esp.Protocol.Transport;

/// <summary>
/// Waits for a serial port that went away to come back: a USB bridge that re-enumerates (a board that browned out, a
/// loose cable) reappears under the same path or, with the same USB serial number, under another one.
/// </summary>
public static class PortWaiter
{
    /// <summary>The USB serial number of <paramref name="port"/>, when the system lists one.</summary>
    public static string? SerialNumberOf(string port, Func<IReadOnlyList<SerialPortInfo>> list) =>
        list().FirstOrDefault(p => string.Equals(p.Path, port, StringComparison.Ordinal))?.SerialNumber;

    /// <summary>
    /// The port to reconnect to: <paramref name="port"/> once it is listed again, or the port now carrying
    /// <paramref name="serialNumber"/>; null when neither appears within <paramref name="timeout"/>. Ports that are
    /// not serial devices (socket://, rfc2217://, sim:) are returned at once: their connect retries on its own.
    /// </summary>
    public static async Task<string?> WaitAsync(string port, string? serialNumber, TimeSpan timeout,
        Func<IReadOnlyList<SerialPortInfo>> list, CancellationToken ct)
    {
        if (port.Contains(':', StringComparison.Ordinal)) return port; // a scheme: not a serial device name

        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var ports = list();
            if (ports.Any(p => string.Equals(p.Path, port, StringComparison.Ordinal))) return port;
            if (serialNumber is not null && ports.FirstOrDefault(p => p.SerialNumber == serialNumber) is { } moved) return moved.Path;
            if (DateTime.UtcNow >= deadline) return null;
            await Task.Delay(200, ct).ConfigureAwait(false);
        }
    }
}
