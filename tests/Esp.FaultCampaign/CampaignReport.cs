using System.Text;

namespace Esp.FaultCampaign;

/// <summary>The campaign's results and their tables (Markdown, as docs/reliability.md shows them).</summary>
public sealed record CampaignReport(IReadOnlyList<RunResult> Runs, int Seed, TimeSpan Elapsed)
{
    public int Count(RunOutcome o) => Runs.Count(r => r.Outcome == o);
    public long FaultsInjected => Runs.Sum(r => r.FaultsInjected);
    public int SilentCorruptions => Count(RunOutcome.SilentCorruption);
    public int Hangs => Count(RunOutcome.Hang);
    public int UnclearFailures => Count(RunOutcome.FailedUnclearly);
    public int CollateralDamage => Runs.Count(r => r.CollateralDamage);
    public int ResumedSuccesses => Runs.Count(r => r.Outcome == RunOutcome.Succeeded && r.Resumes > 0);

    /// <summary>The runs that break a rule: silent corruption, hang, unclear failure or damage outside the target.</summary>
    public IReadOnlyList<RunResult> BadRuns => Runs.Where(r => r.Bad).ToList();

    private const string Columns = "| runs | faults injected | succeeded | succeeded after resume | failed clearly | failed unclearly | silent corruptions | damage outside target | hangs |";
    private const string Alignment = "|---:|---:|---:|---:|---:|---:|---:|---:|---:|";

    /// <summary>One row per path, and the total.</summary>
    public string Table() => GroupTable("path", Runs.GroupBy(r => r.Path.ToString()).OrderBy(g => Enum.Parse<RunPath>(g.Key)), total: true);

    /// <summary>One row per fault class, and the error codes of the clear failures per path.</summary>
    public string Details()
    {
        var sb = new StringBuilder();
        sb.Append(GroupTable("fault class", Runs.GroupBy(r => r.Scenario.Class.ToString()).OrderBy(g => Enum.Parse<FaultClass>(g.Key)), total: false));
        sb.AppendLine();
        sb.Append(PortFaultTable());
        sb.AppendLine();
        var paths = Enum.GetValues<RunPath>();
        sb.AppendLine($"| error code of clear failures | all | {string.Join(" | ", paths)} |");
        sb.AppendLine($"|---|---:|{string.Concat(paths.Select(_ => "---:|"))}");
        foreach (var g in Runs.Where(r => r.Outcome == RunOutcome.FailedClearly).GroupBy(r => r.ErrorCode).OrderByDescending(g => g.Count()).ThenBy(g => g.Key))
            sb.AppendLine($"| {g.Key} | {g.Count()} | {string.Join(" | ", paths.Select(p => g.Count(r => r.Path == p)))} |");
        return sb.ToString();
    }

    /// <summary>The port fault classes per path: what resuming does with a lost port, and what the engine API does.</summary>
    private string PortFaultTable()
    {
        var sb = new StringBuilder();
        sb.AppendLine("| port fault | path | runs | port lost | succeeded | succeeded after resume | failed clearly | error codes |");
        sb.AppendLine("|---|---|---:|---:|---:|---:|---:|---|");
        foreach (var g in Runs.Where(r => r.Scenario.NeedsSerialPort).GroupBy(r => (r.Scenario.Class, r.Path)).OrderBy(g => g.Key))
        {
            var codes = g.Where(r => r.Outcome == RunOutcome.FailedClearly).GroupBy(r => r.ErrorCode).OrderByDescending(c => c.Count()).Select(c => $"{c.Key} ×{c.Count()}");
            sb.AppendLine($"| {g.Key.Class} | {g.Key.Path} | {g.Count()} | {g.Count(r => r.FaultsInjected > 0)} | {g.Count(r => r.Outcome == RunOutcome.Succeeded)} | " +
                $"{g.Count(r => r.Outcome == RunOutcome.Succeeded && r.Resumes > 0)} | {g.Count(r => r.Outcome == RunOutcome.FailedClearly)} | {string.Join(", ", codes)} |");
        }
        return sb.ToString();
    }

    private string GroupTable(string name, IEnumerable<IGrouping<string, RunResult>> groups, bool total)
    {
        var sb = new StringBuilder();
        sb.AppendLine($"| {name} {Columns}");
        sb.AppendLine($"|---{Alignment}");
        foreach (var g in groups) sb.AppendLine(Row(g.Key, g.ToList()));
        if (total) sb.AppendLine(Row("**all**", Runs));
        return sb.ToString();
    }

    private static string Row(string label, IReadOnlyList<RunResult> runs) =>
        $"| {label} | {runs.Count} | {runs.Sum(r => r.FaultsInjected)} | {runs.Count(r => r.Outcome == RunOutcome.Succeeded)} | " +
        $"{runs.Count(r => r.Outcome == RunOutcome.Succeeded && r.Resumes > 0)} | {runs.Count(r => r.Outcome == RunOutcome.FailedClearly)} | " +
        $"{runs.Count(r => r.Outcome == RunOutcome.FailedUnclearly)} | {runs.Count(r => r.Outcome == RunOutcome.SilentCorruption)} | " +
        $"{runs.Count(r => r.CollateralDamage)} | {runs.Count(r => r.Outcome == RunOutcome.Hang)} |";
}
