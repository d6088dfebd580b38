using System.Xml;
using System.Xml.Linq;

namespace Esp.Build.Tasks;

/// <summary>A place in an MSBuild file; line and column are 1-based, 0 when unknown.</summary>
internal readonly record struct SourceLocation(string File, int Line, int Column);

/// <summary>
/// Finds the element of the user's MSBuild files that set what a message is about, so that IDEs and CI annotate that
/// line: a property element whose text is the value the task received, or an item element whose Include is the item.
/// MSBuild tells tasks no locations, so only a literal match counts (a value built from other properties is not
/// found, and the caller falls back to the file with line 0).
/// </summary>
internal static class SettingLocator
{
    /// <summary>The last element <c>&lt;property&gt;value&lt;/property&gt;</c> of the first file (in the order given) that has one.</summary>
    public static SourceLocation? FindProperty(IEnumerable<string> files, string property, string value)
    {
        foreach (var file in files)
        {
            var match = Elements(file).LastOrDefault(e => e.Name.LocalName == property && e.Parent?.Name.LocalName == "PropertyGroup" && e.Value.Trim() == value);
            if (match is not null) return At(file, match);
        }
        return null;
    }

    /// <summary>The item element of <paramref name="file"/> whose Include is <paramref name="include"/>, else the file with line 0.</summary>
    public static SourceLocation FindItem(string file, string include)
    {
        var match = Elements(file).LastOrDefault(e => e.Parent?.Name.LocalName == "ItemGroup" && (string?)e.Attribute("Include") is { } i && i.Trim() == include);
        return match is null ? new SourceLocation(file, 0, 0) : At(file, match);
    }

    private static IEnumerable<XElement> Elements(string file)
    {
        if (string.IsNullOrEmpty(file) || !File.Exists(file)) return [];
        try
        {
            return XDocument.Load(file, LoadOptions.SetLineInfo).Descendants();
        }
        catch (Exception ex) when (ex is XmlException or IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    // XmlReader puts the column at the element's name; MSBuild reports the '<' before it.
    private static SourceLocation At(string file, IXmlLineInfo element) =>
        new(file, element.LineNumber, Math.Max(1, element.LinePosition - 1));
}
