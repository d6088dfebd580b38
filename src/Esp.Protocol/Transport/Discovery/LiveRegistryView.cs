using System.Runtime.Versioning;
using System.Security;
using Microsoft.Win32;

namespace Esp.Protocol.Transport.Discovery;

/// <summary>The registry of this Windows host, read-only.</summary>
[SupportedOSPlatform("windows")]
internal sealed class LiveRegistryView : IRegistryView
{
    private static readonly IReadOnlyDictionary<string, string> NoValues = new Dictionary<string, string>();

    public IReadOnlyList<string> SubKeyNames(string keyPath) => Read<IReadOnlyList<string>>(keyPath, key => key.GetSubKeyNames(), []);

    public IReadOnlyDictionary<string, string> StringValues(string keyPath) =>
        Read<IReadOnlyDictionary<string, string>>(keyPath, ReadStringValues, NoValues);

    private static Dictionary<string, string> ReadStringValues(RegistryKey key)
    {
        var values = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var name in key.GetValueNames())
        {
            if (key.GetValue(name, null, RegistryValueOptions.DoNotExpandEnvironmentNames) is string text) values[name] = text;
        }
        return values;
    }

    private static T Read<T>(string keyPath, Func<RegistryKey, T> read, T fallback)
    {
        try
        {
            using var key = Registry.LocalMachine.OpenSubKey(keyPath);
            return key is null ? fallback : read(key);
        }
        // A key can go away while its device is unplugged, and some are closed to ordinary users.
        catch (Exception ex) when (ex is SecurityException or UnauthorizedAccessException or IOException)
        {
            return fallback;
        }
    }
}
