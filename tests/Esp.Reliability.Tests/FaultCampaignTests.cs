using Esp.FaultCampaign;
using Xunit.Abstractions;

namespace Esp.Reliability.Tests;

/// <summary>
/// The CI subset of the fault campaign (the full run: dotnet run --project tests/Esp.FaultCampaign -- --runs 1000).
/// Fails on any silent corruption, hang, or failure that is not an EspException. ESP_CAMPAIGN_RUNS changes the count.
/// </summary>
public class FaultCampaignTests(ITestOutputHelper output)
{
    [Fact]
    public async Task CampaignSubsetHasNoSilentCorruptionNoHangAndOnlyClearErrors()
    {
        int runs = int.TryParse(Environment.GetEnvironmentVariable("ESP_CAMPAIGN_RUNS"), out var n) ? n : 100;
        var report = await Campaign.RunAsync(new CampaignOptions { Runs = runs, Seed = 20240601, Parallel = 2, HangBound = TimeSpan.FromSeconds(60) });
        output.WriteLine(report.Table());
        output.WriteLine(report.Details());
        foreach (var r in report.Runs.Where(r => r.Outcome is RunOutcome.SilentCorruption or RunOutcome.Hang or RunOutcome.FailedUnclearly || r.CollateralDamage))
            output.WriteLine(r.Describe());
        Assert.Equal(runs, report.Runs.Count);
        Assert.Equal(0, report.SilentCorruptions);
        Assert.Equal(0, report.Hangs);
        Assert.Equal(0, report.UnclearFailures);
        Assert.Equal(0, report.CollateralDamage);
        Assert.True(report.Count(RunOutcome.Succeeded) > runs / 2, $"only {report.Count(RunOutcome.Succeeded)} of {runs} runs succeeded");
    }
}
