using System.Collections;
using Microsoft.Build.Framework;

namespace Esp.Build.Tasks.Tests;

/// <summary>Collects what a task logs, so tests can run tasks in-process.</summary>
internal sealed class FakeBuildEngine : IBuildEngine
{
    public List<BuildErrorEventArgs> Errors { get; } = [];
    public List<BuildWarningEventArgs> Warnings { get; } = [];
    public List<BuildMessageEventArgs> Messages { get; } = [];

    public bool ContinueOnError => false;
    public int LineNumberOfTaskNode { get; init; }
    public int ColumnNumberOfTaskNode { get; init; }
    public string ProjectFileOfTaskNode { get; init; } = "test.proj";

    public bool BuildProjectFile(string projectFileName, string[] targetNames, IDictionary globalProperties, IDictionary targetOutputs) => throw new NotSupportedException();
    public void LogCustomEvent(CustomBuildEventArgs e) { }
    public void LogErrorEvent(BuildErrorEventArgs e) { lock (this) Errors.Add(e); }
    public void LogMessageEvent(BuildMessageEventArgs e) { lock (this) Messages.Add(e); }
    public void LogWarningEvent(BuildWarningEventArgs e) { lock (this) Warnings.Add(e); }

    public string Log => string.Join("\n", Messages.Select(m => m.Message).Concat(Warnings.Select(w => $"warning {w.Code}: {w.Message}")).Concat(Errors.Select(e => $"error {e.Code}: {e.Message}")));

    public string? SingleErrorCode => Errors.Count == 1 ? Errors[0].Code : $"{Errors.Count} errors: " + string.Join(", ", Errors.Select(e => e.Code));
}
