namespace Esp.Simulator;

/// <summary>How a served chip is reached.</summary>
public enum EndpointKind
{
    /// <summary>A pseudo-terminal: DTR/RTS do not reach the chip, so tools connect without a reset.</summary>
    Pty,
    /// <summary>Raw TCP, like QEMU's <c>-serial tcp:</c>: no line control either.</summary>
    Tcp,
    /// <summary>RFC 2217: DTR/RTS drive the auto-reset circuit, so reset sequences work.</summary>
    Rfc2217,
}

/// <summary>One place a served chip listens.</summary>
/// <param name="Port">What a serial tool opens: the pty path, <c>socket://127.0.0.1:N</c> or <c>rfc2217://127.0.0.1:N</c>.</param>
/// <param name="Device">The pty's device (<c>/dev/pts/N</c>) behind <paramref name="Port"/>; null for TCP.</param>
public sealed record ChipEndpoint(EndpointKind Kind, string Port, string? Device = null);

/// <summary>
/// Serves one virtual chip on any mix of a pseudo-terminal, a raw TCP port and an RFC 2217 port at once, until
/// disposed (the chip itself stays the caller's). The chip has one UART: one client at a time is served, and while
/// a pseudo-terminal holds it, TCP and RFC 2217 clients are turned away.
/// </summary>
public sealed class ChipServers : IDisposable
{
    private readonly List<IDisposable> _servers = [];
    private readonly List<ChipEndpoint> _endpoints = [];

    /// <param name="ptyPath">Where to put a symlink to a new pseudo-terminal (null: none).</param>
    /// <param name="tcpPort">Raw TCP port on 127.0.0.1, 0 for a free one (null: none).</param>
    /// <param name="rfc2217Port">RFC 2217 port on 127.0.0.1, 0 for a free one (null: none).</param>
    public ChipServers(VirtualChip chip, string? ptyPath = null, int? tcpPort = null, int? rfc2217Port = null)
    {
        ArgumentNullException.ThrowIfNull(chip);
        try
        {
            if (ptyPath is not null)
            {
                var pty = new PtyHost(chip, ptyPath);
                _servers.Add(pty);
                _endpoints.Add(new ChipEndpoint(EndpointKind.Pty, pty.Path, pty.DevicePath));
            }
            if (tcpPort is { } tp)
            {
                var tcp = new TcpSerialServer(chip, tp);
                _servers.Add(tcp);
                _endpoints.Add(new ChipEndpoint(EndpointKind.Tcp, $"socket://127.0.0.1:{tcp.Port}"));
            }
            if (rfc2217Port is { } rp)
            {
                var rfc = new Rfc2217Server(chip, rp);
                _servers.Add(rfc);
                _endpoints.Add(new ChipEndpoint(EndpointKind.Rfc2217, $"rfc2217://127.0.0.1:{rfc.Port}"));
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>In the order pty, TCP, RFC 2217.</summary>
    public IReadOnlyList<ChipEndpoint> Endpoints => _endpoints;

    public void Dispose()
    {
        foreach (var server in _servers) server.Dispose();
        _servers.Clear();
    }
}
