namespace Esp.Protocol.Transport.Discovery;

/// <summary>
/// Read access to HKEY_LOCAL_MACHINE as data: the live registry on Windows, or recorded contents (a regedit export)
/// anywhere, so the Windows port discovery can be checked on any system. Key paths are relative to HKLM (for example
/// <c>HARDWARE\DEVICEMAP\SERIALCOMM</c>) and, as on Windows, key and value names compare without regard to case.
/// </summary>
public interface IRegistryView
{
    /// <summary>The names of the subkeys of <paramref name="keyPath"/>; empty when the key is missing or unreadable.</summary>
    IReadOnlyList<string> SubKeyNames(string keyPath);

    /// <summary>
    /// The string values (REG_SZ, and REG_EXPAND_SZ unexpanded) of <paramref name="keyPath"/> by name; values of other
    /// types are left out. Empty when the key is missing or unreadable.
    /// </summary>
    IReadOnlyDictionary<string, string> StringValues(string keyPath);
}
