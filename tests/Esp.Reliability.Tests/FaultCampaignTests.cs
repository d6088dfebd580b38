using System.Globalization;
using Esp.FaultCampaign;
using Xunit.Abstractions;

namespace Esp.Reliability.Tests;

/// <summary>
/// The CI subset of the fault campaign (the full run: dotnet run --project tests/Esp.FaultCampaign -c Release --
/// --runs 2000). A new seed every run (from the clock; ESP_CAMPAIGN_SEED fixes it), printed with the command that
/// replays a failing run. Fails on any silent corruption, hang, unclear failure or damage outside the target.
/// ESP_CAMPAIGN_RUNS changes the count.
/// </summary>
public class FaultCampaignTests(ITestOutputHelper output)
{
    [Fact]
    public async Task CampaignSubsetHasNoSilentCorruptionNoHangAndOnlyClearErrors()
    {
        int runs = int.TryParse(Environment.GetEnvironmentVariable("ESP_CAMPAIGN_RUNS"), out var n) ? n : 100;
        int seed = int.TryParse(Environment.GetEnvironmentVariable("ESP_CAMPAIGN_SEED"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var s)
            ? s
            : (int)(DateTimeOffset.UtcNow.ToUnixTimeSeconds() % int.MaxValue);
        output.WriteLine($"Fault campaign subset: seed {seed}, {runs} runs (ESP_CAMPAIGN_SEED={seed} repeats it).");

        var report = await Campaign.RunAsync(new CampaignOptions { Runs = runs, Seed = seed, Parallel = 4, HangBound = TimeSpan.FromSeconds(60) });

        output.WriteLine(report.Table());
        output.WriteLine(report.Details());
        var bad = report.BadRuns;
        foreach (var r in bad) output.WriteLine(r.Describe());
        string replay = bad.Count == 0
            ? $"seed {seed}; replay a run with: {Campaign.ReplayCommand(seed, "<index>")}"
            : $"seed {seed}; replay with: {Campaign.ReplayCommand(seed, bad.Select(r => r.Index))}\n{string.Join("\n", bad.Select(r => r.Describe()))}";
        output.WriteLine(replay);
        Assert.True(runs == report.Runs.Count, $"{report.Runs.Count} of {runs} runs reported; {replay}");
        Assert.True(report.SilentCorruptions == 0, $"{report.SilentCorruptions} silent corruption(s); {replay}");
        Assert.True(report.Hangs == 0, $"{report.Hangs} hang(s); {replay}");
        Assert.True(report.UnclearFailures == 0, $"{report.UnclearFailures} unclear failure(s); {replay}");
        Assert.True(report.CollateralDamage == 0, $"{report.CollateralDamage} run(s) damaged flash outside the target; {replay}");
        Assert.True(report.Count(RunOutcome.Succeeded) > runs / 2, $"only {report.Count(RunOutcome.Succeeded)} of {runs} runs succeeded; {replay}");
    }
}
