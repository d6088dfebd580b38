using Esp.Protocol.Errors;
using Esp.Protocol.Loader;
using Microsoft.Build.Framework;

namespace Esp.Build.Tasks;

/// <summary>
/// Common base of every Esp.Build task: turns <see cref="EspException"/> into <c>ESPnnnn</c> MSBuild errors with a help
/// sentence and link, at the user's file (never a stack trace; see <c>EspTaskBase.Messages.cs</c>), supports
/// cancellation (Ctrl+C, IDE cancel) and throttled progress messages.
/// </summary>
public abstract partial class EspTaskBase : Microsoft.Build.Utilities.Task, ICancelableTask
{
    private readonly CancellationTokenSource _cts = new();

    static EspTaskBase()
    {
        Esp.Simulator.Link.SimulatorPort.Register();
    }

    /// <summary>Cancelled by <see cref="Cancel"/>; passed to every engine call.</summary>
    protected CancellationToken CancellationToken => _cts.Token;

    /// <summary>MSBuild calls this on Ctrl+C or an IDE cancel.</summary>
    public void Cancel()
    {
        try
        {
            _cts.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }
    }

    public sealed override bool Execute()
    {
        try
        {
            RunAsync(_cts.Token).GetAwaiter().GetResult();
        }
        catch (EspException ex)
        {
            // A cancelled write arrives as an EspWriteIncompleteException that names its ranges; say what the task did too.
            if (_cts.IsCancellationRequested) OnCancelled();
            LogEspError(ex);
        }
        catch (OperationCanceledException) when (_cts.IsCancellationRequested)
        {
            OnCancelled();
            LogEspError(new EspException(EspErrorCode.Cancelled, $"{GetType().Name} was cancelled."));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidDataException)
        {
            LogEspError(new EspException(ex is UnauthorizedAccessException ? EspErrorCode.PortBusy : EspErrorCode.Internal, ex.Message,
                "Check the file or port named in the message and its permissions."));
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Still a coded error at the user's project, not MSBuild's "task failed unexpectedly"; the stack for -v:d.
            Log.LogMessage(MessageImportance.Low, "{0}", ex);
            LogEspError(new EspException(EspErrorCode.Internal, $"{GetType().Name} failed: {ex.GetType().Name}: {ex.Message}",
                "This is a fault in Esp.Build: please report it with the build log (-v:d shows where it happened)."));
        }
        return !Log.HasLoggedErrors;
    }

    /// <summary>The task's work.</summary>
    protected abstract Task RunAsync(CancellationToken ct);

    /// <summary>Called when the task was cancelled, before the ESP9001 error is logged (say what was and was not done).</summary>
    protected virtual void OnCancelled()
    {
    }

    /// <summary>
    /// Progress at normal verbosity: a line about every <paramref name="step"/> of each operation (see <see cref="ProgressLog"/>),
    /// each line after <paramref name="prefix"/> (a board's name when several run at once).
    /// </summary>
    protected IProgress<EspProgress> CreateProgress(double step = 0.1, string prefix = "")
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        return new ProgressLog((importance, line) => Log.LogMessage(importance, "{0}{1}", prefix, line), () => clock.Elapsed, step);
    }

    protected static string? NonEmpty(string? s) => string.IsNullOrWhiteSpace(s) ? null : s.Trim();

    /// <summary>Parses a task parameter holding a number (decimal, 0x hex, optional k/M suffix).</summary>
    protected static uint ParseUInt(string? text, string name) => Numbers.ParseUInt(text, name);
}
