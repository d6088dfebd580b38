using System.Text.Json;

namespace Esp.Build.Tasks;

/// <summary>What a task did on one board of several: for its row in the table, its item and its summary record.</summary>
/// <param name="Result">A word for the table ("written", "unchanged").</param>
/// <param name="Summary">The board's one-line summary, as logged.</param>
internal sealed record BoardReport(string Result, string Summary)
{
    public long BytesWritten { get; init; }

    /// <summary>Every image checked with the chip's MD5.</summary>
    public bool Verified { get; init; }

    /// <summary>The task's own metadata for the board's item.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; init; } = new Dictionary<string, string>();

    /// <summary>Writes the task's own fields into the board's record of the summary file.</summary>
    public Action<Utf8JsonWriter>? WriteJson { get; init; }
}
