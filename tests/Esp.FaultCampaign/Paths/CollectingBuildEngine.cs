using System.Collections;
using Microsoft.Build.Framework;

namespace Esp.FaultCampaign.Paths;

/// <summary>The build engine a task sees: collects its errors, warnings and messages.</summary>
internal sealed class CollectingBuildEngine : IBuildEngine
{
    private readonly List<BuildErrorEventArgs> _errors = [];
    private readonly List<string> _log = [];

    public bool ContinueOnError => false;
    public int LineNumberOfTaskNode => 0;
    public int ColumnNumberOfTaskNode => 0;
    public string ProjectFileOfTaskNode => "campaign.proj";

    public BuildErrorEventArgs? FirstError { get { lock (_errors) return _errors.FirstOrDefault(); } }

    public string Log { get { lock (_log) return string.Join('\n', _log); } }

    public bool BuildProjectFile(string projectFileName, string[] targetNames, IDictionary globalProperties, IDictionary targetOutputs) =>
        throw new NotSupportedException();

    public void LogCustomEvent(CustomBuildEventArgs e) { }

    public void LogErrorEvent(BuildErrorEventArgs e)
    {
        lock (_errors) _errors.Add(e);
        Add($"error {e.Code}: {e.Message}");
    }

    public void LogWarningEvent(BuildWarningEventArgs e) => Add($"warning {e.Code}: {e.Message}");

    public void LogMessageEvent(BuildMessageEventArgs e) => Add(e.Message ?? "");

    private void Add(string line)
    {
        lock (_log) _log.Add(line);
    }
}
