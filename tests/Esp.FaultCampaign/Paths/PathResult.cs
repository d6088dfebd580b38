using Esp.FaultCampaign.Ports;

namespace Esp.FaultCampaign.Paths;

/// <summary>What a run needs to drive its path: the scenario, the chip's port, a private directory and the settings.</summary>
public sealed record RunContext(Scenario Scenario, ChipPort Port, string Directory, CampaignOptions Options);

/// <summary>What a path reported, in its own terms (a task's result and errors, an exit code and JSON, an exception).</summary>
/// <param name="Succeeded">The path said the write is done.</param>
/// <param name="Resumes">How many times it reconnected and resumed.</param>
/// <param name="Code">The ESPnnnn code of a failure.</param>
/// <param name="Message">What the failure said.</param>
/// <param name="Help">What it told the user to do.</param>
public sealed record PathResult(bool Succeeded, int Resumes, string? Code, string? Message, string? Help)
{
    /// <summary>What the path printed or logged (for replaying one run with --log).</summary>
    public string Log { get; init; } = "";

    public static PathResult Success(int resumes) => new(true, resumes, null, null, null);
    public static PathResult Failure(string? code, string? message, string? help) => new(false, 0, code, message, help);
}

/// <summary>Runs the path a scenario picked.</summary>
public static class RunPaths
{
    public static Task<PathResult> RunAsync(RunContext run, CancellationToken ct) => run.Scenario.Path switch
    {
        RunPath.DeployTask => DeployTaskPath.RunAsync(run, ct),
        RunPath.CliWriteFlash => CliWriteFlashPath.RunAsync(run, ct),
        RunPath.EngineWrite => EngineWritePath.RunAsync(run, ct),
        _ => throw new ArgumentOutOfRangeException(nameof(run), run.Scenario.Path, "unknown path"),
    };

    /// <summary>The image as a file in the run's directory, as users hand it to the task or the command line.</summary>
    internal static string WriteImageFile(RunContext run)
    {
        var file = Path.Combine(run.Directory, "image.bin");
        File.WriteAllBytes(file, run.Scenario.Image);
        return file;
    }
}
