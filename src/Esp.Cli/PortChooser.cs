using Esp.Protocol.Transport;

namespace Esp.Cli;

/// <summary>Picks the port when none was given: the one known ESP USB bridge, else an error listing the candidates.</summary>
internal static class PortChooser
{
    /// <summary>Replaced by tests; the real one reads the host's ports.</summary>
    internal static Func<IReadOnlyList<SerialPortInfo>> List { get; set; } = PortDiscovery.List;

    public static string Choose(Output output)
    {
        var chosen = PortDiscovery.ChooseDefault(List());
        output.Status($"Using port {chosen}");
        return chosen.Path;
    }
}
