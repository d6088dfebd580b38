namespace Esp.Protocol.Transport.Discovery;

/// <summary>
/// Serial ports from the Windows registry. The ports present now are the values of <c>HARDWARE\DEVICEMAP\SERIALCOMM</c>;
/// each is matched to the device instance under <c>SYSTEM\CurrentControlSet\Enum</c> whose <c>Device Parameters\PortName</c>
/// names it: <c>USB\VID_xxxx&amp;PID_xxxx[&amp;MI_xx]\&lt;instance&gt;</c>, or <c>FTDIBUS\VID_xxxx+PID_xxxx+&lt;serial&gt;A\0000</c>
/// for FTDI's driver. That instance gives VID, PID, manufacturer (<c>Mfg</c>) and product (<c>DeviceDesc</c>); the serial
/// number is the instance id of a device that has one (Windows makes up ids with '&amp;' for those that do not).
/// </summary>
internal static class WindowsRegistryPorts
{
    private const string SerialComm = @"HARDWARE\DEVICEMAP\SERIALCOMM";
    private const string EnumKey = @"SYSTEM\CurrentControlSet\Enum";
    private const string ServicesKey = @"SYSTEM\CurrentControlSet\Services";
    private const string FtdiBus = "FTDIBUS";

    // Built-in devices that Windows cannot tell apart from the computer share this container, so it links nothing.
    private const string ComputerContainer = "{00000000-0000-0000-FFFF-FFFFFFFFFFFF}";

    public static IReadOnlyList<SerialPortInfo> List(IRegistryView registry)
    {
        var usb = Instances(registry, "USB", WindowsDeviceId.ParseUsb).ToList();
        var ftdi = Instances(registry, FtdiBus, WindowsDeviceId.ParseFtdiBus);
        var claims = usb.Concat(ftdi).Where(i => i.PortName is not null)
            .ToLookup(i => i.PortName!, StringComparer.OrdinalIgnoreCase);
        var result = new List<SerialPortInfo>();
        foreach (var port in PresentPorts(registry))
        {
            result.Add(Owner(registry, [.. claims[port]]) is { } owner ? Describe(port, owner, usb) : new SerialPortInfo(port));
        }
        PortOrder.Sort(result);
        return result;
    }

    private sealed record Instance(string Enumerator, string DeviceId, string InstanceId, WindowsDeviceId Id,
        IReadOnlyDictionary<string, string> Values, string? PortName)
    {
        public string Path => $@"{Enumerator}\{DeviceId}\{InstanceId}";

        public string? Value(string name) => Values.TryGetValue(name, out var v) && !string.IsNullOrWhiteSpace(v) ? v.Trim() : null;
    }

    private static IEnumerable<Instance> Instances(IRegistryView registry, string enumerator, Func<string, WindowsDeviceId?> parse)
    {
        var root = $@"{EnumKey}\{enumerator}";
        foreach (var deviceId in registry.SubKeyNames(root))
        {
            if (parse(deviceId) is not { } id) continue;
            foreach (var instanceId in registry.SubKeyNames($@"{root}\{deviceId}"))
            {
                var key = $@"{root}\{deviceId}\{instanceId}";
                registry.StringValues(key + @"\Device Parameters").TryGetValue("PortName", out var port);
                yield return new Instance(enumerator, deviceId, instanceId, id, registry.StringValues(key),
                    string.IsNullOrWhiteSpace(port) ? null : port.Trim());
            }
        }
    }

    private static List<string> PresentPorts(IRegistryView registry) =>
    [
        .. registry.StringValues(SerialComm).Values
            .Select(v => v.Trim('\0', ' '))
            .Where(v => v.Length > 0)
            .Distinct(StringComparer.OrdinalIgnoreCase),
    ];

    // A device seen once keeps its key, PortName included, after it is gone. When several keys name a present port,
    // the device plugged in now is the one its driver's service lists among the instances it runs.
    private static Instance? Owner(IRegistryView registry, List<Instance> claims)
    {
        if (claims.Count <= 1) return claims.FirstOrDefault();
        var started = claims.Where(c => IsStarted(registry, c)).ToList();
        return started.Count == 1 ? started[0] : null;
    }

    private static bool IsStarted(IRegistryView registry, Instance instance) =>
        instance.Value("Service") is { } service
        && registry.StringValues($@"{ServicesKey}\{service}\Enum").Values
            .Any(v => string.Equals(v.Trim(), instance.Path, StringComparison.OrdinalIgnoreCase));

    private static SerialPortInfo Describe(string port, Instance owner, List<Instance> usb)
    {
        var serial = owner.Enumerator == FtdiBus
            ? owner.Id.FtdiSerial
            : SerialOf(owner.Id.Interface is null ? owner : CompositeParent(owner, usb));
        var product = DisplayText(owner.Value("DeviceDesc")) ?? WithoutPortName(owner.Value("FriendlyName"), port);
        return new SerialPortInfo(port, owner.Id.Vid, owner.Id.Pid, DisplayText(owner.Value("Mfg")), product, serial);
    }

    private static string? SerialOf(Instance? device) =>
        device is null || device.InstanceId.Contains('&') ? null : device.InstanceId;

    // An interface of a composite device (MI_xx) gets an instance id made up by Windows; the serial number is its
    // parent's. The parent (same VID and PID, no MI_) is the one whose ParentIdPrefix starts the child's instance id,
    // or else the one in the child's container: every function of one physical device shares its ContainerID.
    private static Instance? CompositeParent(Instance child, List<Instance> usb)
    {
        var parents = usb.Where(p => p.Id.Interface is null && p.Id.Vid == child.Id.Vid && p.Id.Pid == child.Id.Pid).ToList();
        var byPrefix = parents.Where(p => p.Value("ParentIdPrefix") is { } prefix
            && child.InstanceId.StartsWith(prefix + "&", StringComparison.OrdinalIgnoreCase)).ToList();
        if (byPrefix.Count == 1) return byPrefix[0];
        if (child.Value("ContainerID") is not { } container
            || string.Equals(container, ComputerContainer, StringComparison.OrdinalIgnoreCase)) return null;
        var byContainer = parents
            .Where(p => string.Equals(p.Value("ContainerID"), container, StringComparison.OrdinalIgnoreCase)).ToList();
        return byContainer.Count == 1 ? byContainer[0] : null;
    }

    // Setup stores display text as "@file.inf,%key%;Text"; the part after ';' is what Device Manager shows.
    private static string? DisplayText(string? value)
    {
        if (value is null) return null;
        if (value.StartsWith('@'))
        {
            var semicolon = value.IndexOf(';', StringComparison.Ordinal);
            value = semicolon < 0 ? "" : value[(semicolon + 1)..];
        }
        value = value.Trim();
        return value.Length == 0 ? null : value;
    }

    private static string? WithoutPortName(string? friendlyName, string port)
    {
        var suffix = $" ({port})";
        return friendlyName is not null && friendlyName.EndsWith(suffix, StringComparison.OrdinalIgnoreCase)
            ? DisplayText(friendlyName[..^suffix.Length])
            : DisplayText(friendlyName);
    }
}
