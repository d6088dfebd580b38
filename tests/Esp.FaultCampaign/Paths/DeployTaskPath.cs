using System.Globalization;
using Esp.Build.Tasks;
using TaskItem = Microsoft.Build.Utilities.TaskItem;

namespace Esp.FaultCampaign.Paths;

/// <summary>
/// <c>dotnet build -t:Deploy</c> without the build: the EspDeploy task with its parameters set as the targets file
/// passes them (an EspFlashImage item with Address metadata, strings and bools), run by an engine that collects
/// what it logs. Success is what MSBuild sees: Execute() returned true.
/// </summary>
public static class DeployTaskPath
{
    public static Task<PathResult> RunAsync(RunContext run, CancellationToken ct)
    {
        var sc = run.Scenario;
        var item = new TaskItem(RunPaths.WriteImageFile(run));
        item.SetMetadata("Address", $"0x{sc.Address:X}");
        var engine = new CollectingBuildEngine();
        var t = CampaignOptions.FastTimeouts;
        var task = new EspDeploy
        {
            BuildEngine = engine,
            Images = [item],
            SummaryFile = Path.Combine(run.Directory, "obj", "esp-deploy.json"),
            Port = run.Port.Port,
            Baud = sc.Baud.ToString(CultureInfo.InvariantCulture),
            Chip = sc.Chip,
            Before = run.Port.Before,
            After = "no-reset",
            NoStub = !sc.Stub,
            ConnectAttempts = CampaignOptions.ConnectAttempts,
            CommandTimeoutMs = (int)t.Command.TotalMilliseconds,
            SyncTimeoutMs = (int)t.Sync.TotalMilliseconds,
            EraseWriteTimeoutPerMbMs = (int)t.EraseWritePerMegabyte.TotalMilliseconds,
            Md5TimeoutPerMbMs = (int)t.Md5PerMegabyte.TotalMilliseconds,
            PortWaitMs = (int)run.Options.PortWait.TotalMilliseconds,
            ListPorts = run.Port.ListPorts,
        };
        // MSBuild cancels a task through ICancelableTask: that is what the watchdog does to a hung run.
        using var cancel = ct.Register(task.Cancel);
        bool ok = task.Execute();
        var error = engine.FirstError;
        // The task logs message and help as one text (as MSBuild shows it), so the help is not checked apart.
        var result = ok ? PathResult.Success(task.Resumes)
            : error is null ? PathResult.Failure(null, "Execute() returned false without logging an error", null)
            : PathResult.Failure(error.Code, error.Message, error.Message);
        return Task.FromResult(result with { Log = engine.Log });
    }
}
