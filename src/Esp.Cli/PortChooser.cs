using Esp.Protocol.Transport;

namespace Esp.Cli;

/// <summary>Picks the port when none was given: the one known ESP USB bridge, else an error listing the candidates.</summary>
internal static class PortChooser
{
    public static string Choose(CliHost host, Output output)
    {
        var chosen = PortDiscovery.ChooseDefault(host.ListPorts());
        output.Status($"Using port {chosen}");
        return chosen.Path;
    }
}
