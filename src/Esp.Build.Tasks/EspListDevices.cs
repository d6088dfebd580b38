using Esp.Protocol.Loader;
using Esp.Protocol.Transport;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace Esp.Build.Tasks;

/// <summary>
/// The devices <c>dotnet run</c> offers (its ComputeAvailableDevices target): the port the settings name (EspPort,
/// else ESPTOOL_PORT) alone; else every serial port of a known ESP USB bridge; else, with no board attached, the
/// project's fallback (EspDefaultPort) or the built-in virtual ESP32. Each item is the port, with the Description and
/// Type metadata the .NET SDK shows (Type "Device" or "Simulator"), and Chip, Bridge, UsbId and SerialNumber where known.
/// </summary>
public sealed class EspListDevices : EspTaskBase
{
    /// <summary>The virtual chip offered when no board is attached and the project names no fallback port.</summary>
    public const string VirtualChip = "sim:esp32";

    /// <summary>EspPort: when set, the only device.</summary>
    public string? Port { get; set; }

    /// <summary>EspDefaultPort: offered when no board is attached.</summary>
    public string? DefaultPort { get; set; }

    [Output] public ITaskItem[] Devices { get; private set; } = [];

    /// <summary>Lists serial ports; tests replace it. Default: the host's ports, as the connected tasks see them.</summary>
    internal Func<IReadOnlyList<SerialPortInfo>> ListPorts { get; set; } = EspConnectedTask.ListHostPorts;

    /// <summary>Reads ESPTOOL_PORT; tests replace it.</summary>
    internal Func<string, string?> GetEnvironmentVariable { get; set; } = Environment.GetEnvironmentVariable;

    protected override Task RunAsync(CancellationToken ct)
    {
        Devices = [.. List()];
        foreach (var d in Devices)
            Log.LogMessage(MessageImportance.Low, "Esp.Build: device {0} - {1}", d.ItemSpec, d.GetMetadata("Description"));
        return Task.CompletedTask;
    }

    private IEnumerable<ITaskItem> List()
    {
        var env = EsptoolEnvironment.Read(GetEnvironmentVariable);
        if (NonEmpty(Port) is { } port) return [Named(port, "set by EspPort")];
        if (env.Port is { } envPort) return [Named(envPort, "set by ESPTOOL_PORT")];

        var boards = ListPorts().Where(p => p.IsKnownBridge).Select(Board).ToList();
        if (boards.Count > 0) return boards;
        return NonEmpty(DefaultPort) is { } fallback
            ? [Named(fallback, "the project's EspDefaultPort (no board is attached)")]
            : [Named(VirtualChip, "no board is attached")];
    }

    private static TaskItem Board(SerialPortInfo port)
    {
        var item = new TaskItem(port.Path);
        item.SetMetadata("Description", DeviceDescription.Of(port));
        item.SetMetadata("Type", "Device");
        item.SetMetadata("Bridge", port.Bridge.ToString());
        if (DeviceDescription.ChipOf(port) is { } chip) item.SetMetadata("Chip", chip);
        if (port.Vid is { } vid && port.Pid is { } pid) item.SetMetadata("UsbId", $"{vid:X4}:{pid:X4}");
        if (port.SerialNumber is { } serial) item.SetMetadata("SerialNumber", serial);
        return item;
    }

    /// <summary>
    /// A port that a setting names, not one that was found. A virtual chip is listed by its short name
    /// (<c>sim:esp32</c>), which the targets turn back into the setting's whole URI (flash size, state file, preloads).
    /// </summary>
    private static TaskItem Named(string port, string setting)
    {
        var chip = DeviceDescription.VirtualChipOf(port);
        var item = new TaskItem(chip is null ? port : port.Split('?', 2)[0]);
        item.SetMetadata("Description", chip is null ? setting : $"virtual {chip} (Esp.Build's simulator), {setting}");
        item.SetMetadata("Type", chip is null ? "Device" : "Simulator");
        if (chip is not null) item.SetMetadata("Chip", chip);
        return item;
    }
}
