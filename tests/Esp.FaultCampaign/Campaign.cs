using System.Collections.Concurrent;
using System.Diagnostics;
using Esp.FaultCampaign.Paths;
using Esp.FaultCampaign.Ports;
using Esp.Protocol.Loader;
using Esp.Simulator;

namespace Esp.FaultCampaign;

public enum RunOutcome
{
    /// <summary>The path reported success and the flash holds the image.</summary>
    Succeeded,
    /// <summary>The path failed with a coded error (ESPnnnn, message, help) that fits what happened.</summary>
    FailedClearly,
    /// <summary>The path failed some other way: an exception, no code, an internal or input error, the wrong code (a bug).</summary>
    FailedUnclearly,
    /// <summary>The path reported success but the flash differs from the image.</summary>
    SilentCorruption,
    /// <summary>The path did not finish within the wall-clock bound.</summary>
    Hang,
}

public sealed record CampaignOptions
{
    public int Runs { get; init; } = 1000;
    public int Seed { get; init; } = 1;
    public int Parallel { get; init; } = 2;
    /// <summary>An operation running longer than this is a hang.</summary>
    public TimeSpan HangBound { get; init; } = TimeSpan.FromSeconds(60);
    /// <summary>How long a resume waits for a port that went away (EspPortWaitMs / --port-wait).</summary>
    public TimeSpan PortWait { get; init; } = TimeSpan.FromSeconds(5);
    /// <summary>Run only these run indices (reproducing one run).</summary>
    public IReadOnlyList<int>? Only { get; init; }
    public Action<RunResult>? OnRun { get; init; }

    /// <summary>Connection attempts (each a reset and five syncs).</summary>
    public const int ConnectAttempts = 4;

    /// <summary>Short engine timeouts so that a run under faults takes about a second.</summary>
    public static EspTimeouts FastTimeouts { get; } = new()
    {
        Command = TimeSpan.FromMilliseconds(300),
        Sync = TimeSpan.FromMilliseconds(100),
        Md5PerMegabyte = TimeSpan.FromSeconds(2),
        EraseWritePerMegabyte = TimeSpan.FromSeconds(4),
        ChipErase = TimeSpan.FromSeconds(10),
        MemEndRom = TimeSpan.FromMilliseconds(200),
        Max = TimeSpan.FromSeconds(10),
    };
}

public sealed record RunResult(int Index, Scenario Scenario, RunOutcome Outcome, long FaultsInjected, int Resumes,
    bool CollateralDamage, string? ErrorCode, string? Error, TimeSpan Elapsed)
{
    /// <summary>What the path printed or logged.</summary>
    public string Log { get; init; } = "";

    public RunPath Path => Scenario.Path;
    public bool Bad => Outcome is not (RunOutcome.Succeeded or RunOutcome.FailedClearly) || CollateralDamage;

    public string Describe() =>
        $"run {Index} (seed {Scenario.Seed}): {Scenario.Label}: {Outcome}{(CollateralDamage ? " +collateral" : "")}, " +
        $"{FaultsInjected} faults, {Resumes} resume(s), {Elapsed.TotalSeconds:0.0} s{(Error is null ? "" : $" — {ErrorCode}: {Error}")}";
}

/// <summary>
/// The seeded fault campaign: each run writes a random image to a fresh virtual chip whose link injects faults,
/// through the path the run picked (the Deploy task, <c>dotnet esp write_flash</c>, or the engine API), then
/// compares the chip's flash (read directly, not through the protocol) with what the path reported.
/// </summary>
public static class Campaign
{
    /// <summary>The seed of run <paramref name="index"/> in a campaign seeded with <paramref name="seed"/>.</summary>
    public static int RunSeed(int seed, int index) => unchecked((int)((uint)seed * 2654435761u ^ (uint)index * 40503u + (uint)index));

    /// <summary>The command that replays runs of a campaign.</summary>
    public static string ReplayCommand(int seed, IEnumerable<int> indices) => ReplayCommand(seed, string.Join(',', indices));

    public static string ReplayCommand(int seed, string only) =>
        $"dotnet run --project tests/Esp.FaultCampaign -c Release -- --seed {seed} --only {only}";

    public static async Task<CampaignReport> RunAsync(CampaignOptions options, CancellationToken ct = default)
    {
        var sw = Stopwatch.StartNew();
        var indices = options.Only ?? Enumerable.Range(0, options.Runs).ToList();
        var results = new ConcurrentBag<RunResult>();
        await Parallel.ForEachAsync(indices, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, options.Parallel), CancellationToken = ct },
            async (i, token) =>
            {
                var r = await RunOneAsync(i, Scenario.Create(RunSeed(options.Seed, i)), options, token).ConfigureAwait(false);
                results.Add(r);
                options.OnRun?.Invoke(r);
            }).ConfigureAwait(false);
        return new CampaignReport(results.OrderBy(r => r.Index).ToList(), options.Seed, sw.Elapsed);
    }

    public static async Task<RunResult> RunOneAsync(int index, Scenario sc, CampaignOptions options, CancellationToken ct = default)
    {
        var sw = Stopwatch.StartNew();
        var directory = Directory.CreateTempSubdirectory("esp-campaign-").FullName;
        var chip = new VirtualChip(new VirtualChipOptions
        {
            Chip = sc.Chip,
            FlashSize = Scenario.FlashSize,
            Preloads = [new FlashPreload(sc.OldAddress, sc.Old)],
            Faults = sc.Faults,
        });
        var before = chip.Flash.Read(0, Scenario.FlashSize);
        var port = ChipPort.For(sc, chip, directory);
        using var abandon = new CancellationTokenSource();
        var run = new RunContext(sc, port, directory, options);
        var work = Task.Run(() => RunPaths.RunAsync(run, abandon.Token), CancellationToken.None);
        var finished = await Task.WhenAny(work, Task.Delay(options.HangBound, ct)).ConfigureAwait(false);

        RunOutcome outcome;
        int resumes = 0;
        string? code = null, error = null, log = "";
        if (finished != work)
        {
            outcome = RunOutcome.Hang;
            error = $"no result after {options.HangBound.TotalSeconds:0} s";
            await abandon.CancelAsync().ConfigureAwait(false);
        }
        else
        {
            try
            {
                var result = await work.ConfigureAwait(false);
                resumes = result.Resumes;
                log = result.Log;
                code = result.Code;
                error = result.Message;
                if (result.Succeeded)
                {
                    var flash = chip.Flash.Read(sc.Address, sc.Image.Length);
                    outcome = flash.AsSpan().SequenceEqual(sc.Image) ? RunOutcome.Succeeded : RunOutcome.SilentCorruption;
                    if (outcome == RunOutcome.SilentCorruption)
                        error = $"reported success, but the flash differs from the image at 0x{sc.Address + (uint)flash.AsSpan().CommonPrefixLength(sc.Image):X8}";
                }
                else
                {
                    var why = FailureChecks.WhyUnclear(sc, result, portLost: port.FaultsInjected > 0 && sc.NeedsSerialPort);
                    outcome = why is null ? RunOutcome.FailedClearly : RunOutcome.FailedUnclearly;
                    if (why is not null) error = $"{why} — {error}";
                }
            }
            catch (Exception ex)
            {
                outcome = RunOutcome.FailedUnclearly;
                code = ex.GetType().Name;
                error = ex.ToString();
            }
        }

        var damage = FailureChecks.DamageOutsideTarget(sc, before, chip.Flash.Read(0, Scenario.FlashSize), outcome);
        if (damage is not null) error = (error is null ? "" : error + "; ") + damage;

        long faults = chip.Statistics.FaultsInjected + port.FaultsInjected;
        if (outcome != RunOutcome.Hang)
        {
            await CloseAsync(port, chip, directory).ConfigureAwait(false);
        }
        else
        {
            // A hung operation may still hold the port; let it go in the background.
            _ = Task.Run(async () =>
            {
                try { await work.ConfigureAwait(false); }
                catch (Exception) { }
                await CloseAsync(port, chip, directory).ConfigureAwait(false);
            }, CancellationToken.None);
        }
        return new RunResult(index, sc, outcome, faults, resumes, damage is not null, code, error, sw.Elapsed) { Log = log };
    }

    private static async Task CloseAsync(ChipPort port, VirtualChip chip, string directory)
    {
        await port.DisposeAsync().ConfigureAwait(false);
        await chip.DisposeAsync().ConfigureAwait(false);
        try { Directory.Delete(directory, recursive: true); }
        catch (IOException) { }
    }
}
