using System.Text;
using Esp.Protocol.Transport.Discovery;

namespace Esp.Protocol.Tests.Transport.Discovery;

/// <summary>
/// Registry contents recorded in regedit's export format (<c>Windows Registry Editor Version 5.00</c>): <c>[key]</c>
/// lines, then <c>"name"="text"</c> lines; values of other types (<c>dword:</c>, <c>hex(7):</c>, ...) are read past.
/// Only HKEY_LOCAL_MACHINE is kept.
/// </summary>
internal sealed class RegFileRegistry : IRegistryView
{
    private const string Hklm = @"HKEY_LOCAL_MACHINE\";
    private readonly Dictionary<string, Dictionary<string, string>> _keys = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, List<string>> _subKeys = new(StringComparer.OrdinalIgnoreCase);

    private RegFileRegistry()
    {
    }

    public static RegFileRegistry Load(string path) => Parse(File.ReadAllText(path));

    public static RegFileRegistry Parse(string text)
    {
        var registry = new RegFileRegistry();
        Dictionary<string, string>? values = null;
        foreach (var line in LogicalLines(text))
        {
            if (line.StartsWith('['))
            {
                var name = line.TrimEnd()[1..^1];
                values = name.StartsWith(Hklm, StringComparison.OrdinalIgnoreCase) ? registry.AddKey(name[Hklm.Length..]) : null;
            }
            else if (values is not null && line.StartsWith('"') && ParseStringValue(line) is { } value)
            {
                values[value.Name] = value.Text;
            }
        }
        return registry;
    }

    public IReadOnlyList<string> SubKeyNames(string keyPath) => _subKeys.TryGetValue(keyPath, out var names) ? names : [];

    public IReadOnlyDictionary<string, string> StringValues(string keyPath) =>
        _keys.TryGetValue(keyPath, out var values) ? values : new Dictionary<string, string>();

    private Dictionary<string, string> AddKey(string path)
    {
        if (_keys.TryGetValue(path, out var existing)) return existing;
        var values = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        _keys[path] = values;
        for (var child = path; child.LastIndexOf('\\') is var cut and > 0; child = child[..cut])
        {
            var parent = child[..cut];
            var name = child[(cut + 1)..];
            if (!_subKeys.TryGetValue(parent, out var names)) _subKeys[parent] = names = [];
            if (!names.Contains(name, StringComparer.OrdinalIgnoreCase)) names.Add(name);
        }
        return values;
    }

    // A line ending in '\' goes on in the next (long hex values); lines starting with ';' are comments.
    private static IEnumerable<string> LogicalLines(string text)
    {
        var pending = new StringBuilder();
        foreach (var raw in text.ReplaceLineEndings("\n").Split('\n'))
        {
            var line = raw.TrimStart();
            if (pending.Length == 0 && (line.Length == 0 || line.StartsWith(';'))) continue;
            if (line.EndsWith('\\'))
            {
                pending.Append(line[..^1]);
                continue;
            }
            pending.Append(line);
            yield return pending.ToString();
            pending.Clear();
        }
        if (pending.Length > 0) yield return pending.ToString();
    }

    private static (string Name, string Text)? ParseStringValue(string line)
    {
        var index = 0;
        var name = Quoted(line, ref index);
        if (name is null || index >= line.Length || line[index] != '=') return null;
        index++;
        return index < line.Length && line[index] == '"' && Quoted(line, ref index) is { } text ? (name, text) : null;
    }

    private static string? Quoted(string line, ref int index)
    {
        var sb = new StringBuilder();
        for (index++; index < line.Length; index++)
        {
            var c = line[index];
            if (c == '"')
            {
                index++;
                return sb.ToString();
            }
            if (c == '\\' && index + 1 < line.Length) c = line[++index];
            sb.Append(c);
        }
        return null;
    }
}
