using Esp.Protocol.Errors;

namespace Esp.Protocol.Farm;

/// <summary>How one board's part of a farm run ended.</summary>
public enum BoardOutcome
{
    Succeeded,
    Failed,
    /// <summary>Stopped because the run was cancelled or another board failed first (StopOnFirstError).</summary>
    Cancelled,
    /// <summary>Never connected: the run stopped before this board's turn.</summary>
    NotStarted,
}

/// <summary>What happened on one board.</summary>
public sealed record BoardResult<T>(Board Board, BoardOutcome Outcome, T? Value, EspException? Error, TimeSpan Elapsed)
{
    /// <summary>The chip's name, once connected ("ESP32-C3").</summary>
    public string? ChipName { get; init; }

    /// <summary>The chip's factory MAC, once read.</summary>
    public string? Mac { get; init; }

    /// <summary>The port actually used (another path after a re-enumeration).</summary>
    public string? UsedPort { get; init; }

    /// <summary>How many times this board's work reconnected and resumed.</summary>
    public int Resumes { get; init; }

    public bool Succeeded => Outcome == BoardOutcome.Succeeded;
}
