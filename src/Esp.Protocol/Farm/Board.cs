using Esp.Protocol.Errors;
using Esp.Protocol.Transport;

namespace Esp.Protocol.Farm;

/// <summary>One board of a farm: the port it is reached on and what is expected of it.</summary>
/// <param name="Port">Serial device, COM name, socket://, rfc2217:// or sim: URI.</param>
public sealed record Board(string Port)
{
    /// <summary>A name for tables and logs (default: the port).</summary>
    public string? Label { get; init; }

    /// <summary>The chip this board must be (esp32, esp32c3, …); null: as the connect options say.</summary>
    public string? Chip { get; init; }

    /// <summary>The factory MAC this board must have (aa:bb:cc:dd:ee:ff); null: any.</summary>
    public string? Mac { get; init; }

    public string Name => Label ?? Port;

    /// <summary>The word that stands for every ESP USB bridge attached to the host.</summary>
    public const string AllPorts = "all";

    /// <summary>
    /// Boards from port strings, each of which may hold several ports separated by ';' (an MSBuild list), or be
    /// <see cref="AllPorts"/>: every known ESP USB bridge <paramref name="listPorts"/> finds.
    /// </summary>
    public static IReadOnlyList<Board> FromPorts(IEnumerable<string> ports, Func<IReadOnlyList<SerialPortInfo>> listPorts)
    {
        var boards = new List<Board>();
        foreach (var port in ports.SelectMany(p => p.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)))
        {
            if (!port.Equals(AllPorts, StringComparison.OrdinalIgnoreCase))
            {
                boards.Add(new Board(port));
                continue;
            }
            var bridges = listPorts().Where(p => p.IsKnownBridge).ToList();
            if (bridges.Count == 0)
                throw new EspException(EspErrorCode.PortNotSpecified, "The port list says 'all', but no ESP USB bridge (CP210x, CH340/CH9102, FTDI, Espressif USB) is attached.",
                    "Connect the boards, or name their ports.");
            boards.AddRange(bridges.Select(b => new Board(b.Path)));
        }
        CheckDistinct(boards);
        return boards;
    }

    /// <summary>Two boards on one port would fight over it: a coded error names the port.</summary>
    public static void CheckDistinct(IReadOnlyList<Board> boards)
    {
        var twice = boards.GroupBy(b => b.Port, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (twice is not null)
            throw new EspException(EspErrorCode.DuplicatePort, $"The port {twice.Key} is listed {twice.Count()} times.",
                "List each board's port once.");
    }
}
