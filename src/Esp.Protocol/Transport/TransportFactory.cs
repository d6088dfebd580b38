using System.Collections.Concurrent;
using Esp.Protocol.Errors;

namespace Esp.Protocol.Transport;

/// <summary>Options that apply when a port is opened.</summary>
public sealed record TransportOptions
{
    public int BaudRate { get; init; } = 115200;
    /// <summary>Time allowed for opening the port / connecting.</summary>
    public TimeSpan OpenTimeout { get; init; } = TimeSpan.FromSeconds(5);
}

/// <summary>
/// Opens a transport from a port string. Built in: serial device paths and COM names, <c>socket://host:port</c>
/// and <c>rfc2217://host:port</c>. Other schemes (the virtual chip's <c>sim:</c>) are registered by the host
/// application, so this library does not depend on them.
/// </summary>
public static class TransportFactory
{
    private static readonly ConcurrentDictionary<string, Func<string, TransportOptions, CancellationToken, Task<IEspTransport>>> Schemes =
        new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Registers a scheme, e.g. <c>sim</c> for ports written <c>sim:esp32?flash=4MB</c>.</summary>
    public static void Register(string scheme, Func<string, TransportOptions, CancellationToken, Task<IEspTransport>> open) =>
        Schemes[scheme] = open;

    /// <summary>The scheme of a port string, or null for a plain device path / COM name.</summary>
    public static string? SchemeOf(string port)
    {
        int colon = port.IndexOf(':');
        if (colon <= 1) return null; // "C:\..." style paths and device paths have no scheme
        var scheme = port[..colon];
        return scheme.All(char.IsAsciiLetterOrDigit) ? scheme.ToLowerInvariant() : null;
    }

    public static async Task<IEspTransport> OpenAsync(string port, TransportOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new TransportOptions();
        if (string.IsNullOrWhiteSpace(port))
            throw new EspException(EspErrorCode.PortNotSpecified, "No port was given.");
        var scheme = SchemeOf(port);
        if (scheme is not null && Schemes.TryGetValue(scheme, out var open))
            return await open(port, options, cancellationToken).ConfigureAwait(false);
        return scheme switch
        {
            "socket" => await SocketTransport.OpenAsync(port, options, cancellationToken).ConfigureAwait(false),
            "rfc2217" => await Rfc2217Transport.OpenAsync(port, options, cancellationToken).ConfigureAwait(false),
            "sim" => throw new EspException(EspErrorCode.InvalidPortUri,
                $"The port '{port}' names the virtual chip, but no virtual chip is available in this program.",
                "Use the Esp.Build tasks or the dotnet-esp tool, which include the virtual chip."),
            null => SerialTransport.Open(port, options),
            _ when OperatingSystem.IsWindows() && port.StartsWith("COM", StringComparison.OrdinalIgnoreCase) => SerialTransport.Open(port, options),
            _ => throw new EspException(EspErrorCode.InvalidPortUri, $"Unknown port scheme '{scheme}:' in '{port}'."),
        };
    }
}
