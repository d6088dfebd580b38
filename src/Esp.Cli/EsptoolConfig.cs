using System.Globalization;
using Esp.Protocol.Errors;
using Esp.Protocol.Loader;

namespace Esp.Cli;

/// <summary>
/// The <c>[esptool]</c> section of an esptool configuration file, found the way esptool finds it:
/// <c>ESPTOOL_CFGFILE</c>, else the first of esptool.cfg / setup.cfg / tox.ini that has an <c>[esptool]</c>
/// section in the current directory, then <c>~/.config/esptool/</c> (on Windows <c>~/AppData/Local/esptool/</c>), then the home directory.
/// </summary>
internal sealed class EsptoolConfig
{
    /// <summary>The keys esptool knows; others are reported and ignored, as esptool does.</summary>
    public static readonly string[] KnownKeys =
    [
        "timeout", "chip_erase_timeout", "max_timeout", "sync_timeout", "md5_timeout_per_mb",
        "erase_region_timeout_per_mb", "erase_write_timeout_per_mb", "mem_end_rom_timeout",
        "serial_write_timeout", "connect_attempts", "write_block_attempts", "reset_delay",
        "open_port_attempts", "custom_reset_sequence", "custom_hard_reset_sequence",
    ];

    private static readonly string[] CandidateNames = ["esptool.cfg", "setup.cfg", "tox.ini"];

    public static EsptoolConfig Empty { get; } = new(null, new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase));

    private EsptoolConfig(string? path, IReadOnlyDictionary<string, string> values)
    {
        Path = path;
        Values = values;
    }

    /// <summary>The file the settings came from, or null when none was found.</summary>
    public string? Path { get; }
    public IReadOnlyDictionary<string, string> Values { get; }

    public IEnumerable<string> UnknownKeys => Values.Keys.Where(k => !KnownKeys.Contains(k, StringComparer.OrdinalIgnoreCase)).Order(StringComparer.Ordinal);

    public string? Get(string key) => Values.TryGetValue(key, out var v) && v.Length > 0 ? v : null;

    public static EsptoolConfig Load(CliHost host)
    {
        var fromEnv = host.GetEnvironmentVariable("ESPTOOL_CFGFILE");
        if (!string.IsNullOrEmpty(fromEnv))
        {
            var path = host.ResolvePath(fromEnv);
            if (TryRead(path) is { } c) return c;
        }
        string home = host.Home;
        string osDir = OperatingSystem.IsWindows()
            ? System.IO.Path.Combine(home, "AppData", "Local", "esptool")
            : System.IO.Path.Combine(home, ".config", "esptool");
        foreach (var dir in new[] { host.WorkingDirectory, osDir, home })
        {
            foreach (var name in CandidateNames)
            {
                if (TryRead(System.IO.Path.Combine(dir, name)) is { } c) return c;
            }
        }
        return Empty;
    }

    /// <summary>Reads a file's <c>[esptool]</c> section; null when the file is missing, unreadable or has no such section.</summary>
    public static EsptoolConfig? TryRead(string path)
    {
        if (!File.Exists(path)) return null;
        string text;
        try { text = File.ReadAllText(path); }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
        var section = ParseSection(text, "esptool");
        return section is null ? null : new EsptoolConfig(path, section);
    }

    /// <summary>A small INI reader in the spirit of Python's configparser: <c>key = value</c> or <c>key: value</c>,
    /// comments with # or ;, indented lines continue the previous value.</summary>
    internal static Dictionary<string, string>? ParseSection(string text, string wanted)
    {
        Dictionary<string, string>? result = null;
        bool inWanted = false;
        string? lastKey = null;
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            var trimmed = line.Trim();
            if (trimmed.Length == 0) { lastKey = null; continue; }
            if (trimmed[0] is '#' or ';') continue;
            if (char.IsWhiteSpace(line[0]) && lastKey is not null && inWanted)
            {
                result![lastKey] = (result[lastKey] + "\n" + trimmed).Trim();
                continue;
            }
            if (trimmed.StartsWith('[') && trimmed.EndsWith(']'))
            {
                inWanted = string.Equals(trimmed[1..^1].Trim(), wanted, StringComparison.Ordinal);
                if (inWanted) result ??= new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
                lastKey = null;
                continue;
            }
            if (!inWanted) { lastKey = null; continue; }
            int sep = trimmed.IndexOfAny(['=', ':']);
            if (sep <= 0) continue;
            lastKey = trimmed[..sep].Trim().ToLowerInvariant();
            result![lastKey] = trimmed[(sep + 1)..].Trim();
        }
        return result;
    }

    /// <summary>esptool's timeouts with this file's values applied (seconds, as in esptool).</summary>
    public EspTimeouts ApplyTimeouts(EspTimeouts t) => t with
    {
        Command = Seconds("timeout") ?? t.Command,
        ChipErase = Seconds("chip_erase_timeout") ?? t.ChipErase,
        Max = Seconds("max_timeout") ?? t.Max,
        Sync = Seconds("sync_timeout") ?? t.Sync,
        Md5PerMegabyte = Seconds("md5_timeout_per_mb") ?? t.Md5PerMegabyte,
        EraseWritePerMegabyte = Seconds("erase_write_timeout_per_mb") ?? t.EraseWritePerMegabyte,
        MemEndRom = Seconds("mem_end_rom_timeout") ?? t.MemEndRom,
    };

    public TimeSpan? Seconds(string key)
    {
        var v = Get(key);
        if (v is null) return null;
        if (double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var s) && s >= 0 && s < 1e6)
            return TimeSpan.FromSeconds(s);
        throw new UsageException(EspErrorCode.InvalidNumber, $"'{v}' is not a number of seconds ({key} in {Path}).");
    }

    public int? Integer(string key)
    {
        var v = Get(key);
        return v is null ? null : Numbers.ParseInt(v, $"{key} in {Path}", 0);
    }
}
