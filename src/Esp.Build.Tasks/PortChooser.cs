using Esp.Protocol.Errors;
using Esp.Protocol.Transport;

namespace Esp.Build.Tasks;

/// <summary>A serial port that could be used when none is named.</summary>
internal sealed record PortCandidate(string Path, bool IsKnownBridge, string Description)
{
    public override string ToString() => Description;
}

/// <summary>
/// Picks the port when none was set: the only serial port that belongs to a known ESP USB bridge. None or several
/// fail with the candidates and the property to set; nothing ever prompts. <c>ESP_BUILD_SYSFS_ROOT</c> points the
/// Linux discovery at another sysfs/dev tree (<c>$ROOT/sys</c>, <c>$ROOT/dev</c>), for tests.
/// </summary>
internal static class PortChooser
{
    public const string SysfsRootVariable = "ESP_BUILD_SYSFS_ROOT";

    public static IReadOnlyList<PortCandidate> ListHost()
    {
        var root = Environment.GetEnvironmentVariable(SysfsRootVariable);
        var ports = string.IsNullOrEmpty(root)
            ? PortDiscovery.List()
            : PortDiscovery.ListLinux(System.IO.Path.Combine(root, "sys"), System.IO.Path.Combine(root, "dev"));
        return ports.Select(p => new PortCandidate(p.Path, p.IsKnownBridge, p.ToString())).ToList();
    }

    public static PortCandidate ChooseDefault(IReadOnlyList<PortCandidate> candidates) =>
        PortDiscovery.ChooseDefault(candidates, c => c.IsKnownBridge,
            "Set the port with the EspPort property (e.g. -p:EspPort=/dev/ttyUSB0, or in Esp.user.props next to the project) or the ESPTOOL_PORT environment variable.");
}
