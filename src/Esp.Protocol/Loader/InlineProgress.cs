namespace Esp.Protocol.Loader;

/// <summary>
/// Hands every <see cref="EspProgress"/> report straight to a callback, on the reporting thread and in order.
/// <see cref="Progress{T}"/> posts reports to a synchronization context or the thread pool instead, so they can arrive
/// late or out of order; use this where the callback keeps count of what was done or cancels the operation.
/// </summary>
public sealed class InlineProgress : IProgress<EspProgress>
{
    private readonly Action<EspProgress> _report;

    public InlineProgress(Action<EspProgress> report)
    {
        ArgumentNullException.ThrowIfNull(report);
        _report = report;
    }

    public void Report(EspProgress value) => _report(value);
}
