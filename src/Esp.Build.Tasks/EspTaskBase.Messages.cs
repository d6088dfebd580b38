using Esp.Protocol.Errors;

namespace Esp.Build.Tasks;

// Where errors and warnings point: the canonical "file(line,col): error ESPnnnn: message" that Visual Studio, VS Code,
// Rider and CI problem matchers read, with a link to the code's entry in docs/errors.md.
public abstract partial class EspTaskBase
{
    /// <summary>
    /// The project the messages belong to (the Esp targets pass <c>$(MSBuildProjectFullPath)</c>): errors point at it,
    /// or at the line of <see cref="SettingsFiles"/> that set what they are about. Empty: at the element that runs the task.
    /// </summary>
    public string? ProjectFile { get; set; }

    /// <summary>
    /// The files that may set the Esp properties, the one that wins first (the Esp targets pass Esp.user.props,
    /// ~/.esp-build/esp.props, the project's .user file, the project and Directory.Build.props).
    /// </summary>
    public string? SettingsFiles { get; set; }

    /// <summary>The Esp property (and the value this task received from it) that an error is about, if any.</summary>
    protected virtual (string Property, string? Value)? SettingBehind(EspException ex) => ex is EspSettingException s ? (s.Property, s.Value) : null;

    /// <summary>Logs an ESPnnnn error: "message help", with the code as help keyword and a link to its documentation.</summary>
    protected void LogEspError(EspException ex)
    {
        var at = Locate(ex);
        Log.LogError(null, ex.CodeText, ex.CodeText, ErrorLinks.For(ex.CodeText), Display(at.File), at.Line, at.Column, 0, 0, "{0} {1}", ex.Message, ex.Help);
    }

    /// <summary>Logs an ESPnnnn warning, at the line that set <paramref name="setting"/> (with its value) when that is found.</summary>
    protected void LogEspWarning(EspErrorCode code, string message, (string Property, string? Value)? setting = null)
    {
        string codeText = EspException.FormatCode(code);
        var at = FindSetting(setting) ?? FallbackLocation();
        Log.LogWarning(null, codeText, codeText, ErrorLinks.For(codeText), Display(at.File), at.Line, at.Column, 0, 0, "{0}", message);
    }

    /// <summary>Logs an ESPnnnn warning (a code text such as a guard finding's).</summary>
    protected void LogEspWarning(string codeText, string message)
    {
        var at = FallbackLocation();
        Log.LogWarning(null, codeText, codeText, ErrorLinks.For(codeText), Display(at.File), at.Line, at.Column, 0, 0, "{0}", message);
    }

    internal SourceLocation Locate(EspException ex)
    {
        if (ex is EspItemException { Item: var item } && ItemSource(item) is { } file)
            return SettingLocator.FindItem(file, item.ItemSpec);
        return FindSetting(SettingBehind(ex)) ?? FallbackLocation();
    }

    private SourceLocation? FindSetting((string Property, string? Value)? setting) =>
        setting is ({ } property, { } value) && !string.IsNullOrWhiteSpace(value)
            ? SettingLocator.FindProperty(SearchedFiles(), property, value.Trim())
            : null;

    private IEnumerable<string> SearchedFiles() => (SettingsFiles ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>The project with line 0, or, for a task run by the user's own target, that task's element.</summary>
    private SourceLocation FallbackLocation() =>
        NonEmpty(ProjectFile) is { } project ? new SourceLocation(project, 0, 0)
        : BuildEngine is { } engine ? new SourceLocation(engine.ProjectFileOfTaskNode ?? "", engine.LineNumberOfTaskNode, engine.ColumnNumberOfTaskNode)
        : new SourceLocation("", 0, 0);

    /// <summary>The file that defines an item, unless that is one of the package's own files (an item the Esp targets made).</summary>
    private string? ItemSource(Microsoft.Build.Framework.ITaskItem item)
    {
        var file = NonEmpty(item.GetMetadata("EspSourceFile")) ?? NonEmpty(item.GetMetadata("DefiningProjectFullPath"));
        if (file is null) return null;
        if (NonEmpty(ProjectFile) is not null && BuildEngine?.ProjectFileOfTaskNode is { Length: > 0 } targets
            && string.Equals(Path.GetDirectoryName(Path.GetFullPath(file)), Path.GetDirectoryName(Path.GetFullPath(targets)), StringComparison.OrdinalIgnoreCase))
            return null;
        return file;
    }

    /// <summary>
    /// A file inside the project's folder relative to it, as compilers print source files: then the line ends with the
    /// project ("[...proj]"), which problem matchers require and resolve the file against. Other files in full.
    /// </summary>
    private string Display(string file)
    {
        if (file.Length == 0 || NonEmpty(ProjectFile) is not { } project) return file;
        var folder = Path.GetDirectoryName(Path.GetFullPath(project))!;
        var relative = Path.GetRelativePath(folder, Path.GetFullPath(file));
        return relative.StartsWith("..", StringComparison.Ordinal) || Path.IsPathRooted(relative) ? Path.GetFullPath(file) : relative;
    }
}
