using Esp.Protocol.Errors;

namespace Esp.Protocol.Monitor;

/// <summary>Why the monitor stopped.</summary>
public enum MonitorOutcome
{
    /// <summary>A line contained the awaited text.</summary>
    Matched,
    /// <summary>The timeout ran out.</summary>
    TimedOut,
    /// <summary>The caller cancelled (Ctrl+C, a quit key, an IDE's stop button).</summary>
    Stopped,
    /// <summary>The link closed (a socket server went away, the device was unplugged).</summary>
    LinkClosed,
}

/// <summary>What a monitor run saw.</summary>
public sealed record MonitorResult(
    MonitorOutcome Outcome,
    string? Until,
    TimeSpan? Timeout,
    long BytesReceived,
    int Lines,
    TimeSpan Elapsed,
    bool ResetIntoApp)
{
    /// <summary>The line (as far as it had arrived) that contained <see cref="Until"/>.</summary>
    public string? MatchedLine { get; init; }

    /// <summary>
    /// True when the run did what was asked: the text appeared, or, with nothing to wait for, the listening ended
    /// by timeout or cancellation.
    /// </summary>
    public bool Succeeded => Outcome == MonitorOutcome.Matched || Until is null && Outcome is MonitorOutcome.TimedOut or MonitorOutcome.Stopped;

    /// <summary>The coded error for a failed run (text not seen in time, link closed); null otherwise.</summary>
    public EspException? Error => Outcome switch
    {
        MonitorOutcome.TimedOut when Until is not null => new EspException(EspErrorCode.MonitorTimeout,
            $"'{Until}' did not appear within {Timeout?.TotalSeconds:0.###} s ({Received})."),
        MonitorOutcome.LinkClosed => new EspException(EspErrorCode.Disconnected,
            $"The port closed while monitoring ({Received})."),
        _ => null,
    };

    private string Received => $"{BytesReceived} byte{(BytesReceived == 1 ? "" : "s")}, {Lines} line{(Lines == 1 ? "" : "s")} received";
}
