using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using Esp.Protocol.Errors;
using Esp.Protocol.Loader;
using Esp.Protocol.Operations;
using Esp.Protocol.Transport;
using Esp.Simulator;
using Esp.Simulator.Link;

namespace Esp.FaultCampaign;

public enum RunOutcome
{
    /// <summary>The operation reported success and the flash holds the image.</summary>
    Succeeded,
    /// <summary>The operation failed with an <see cref="EspException"/> (code, message, help).</summary>
    FailedClearly,
    /// <summary>The operation failed with something other than an EspException (a bug).</summary>
    FailedUnclearly,
    /// <summary>The operation reported success but the flash differs from the image.</summary>
    SilentCorruption,
    /// <summary>The operation did not finish within the wall-clock bound.</summary>
    Hang,
}

public sealed record CampaignOptions
{
    public int Runs { get; init; } = 1000;
    public int Seed { get; init; } = 1;
    public int Parallel { get; init; } = 2;
    /// <summary>An operation running longer than this is a hang.</summary>
    public TimeSpan HangBound { get; init; } = TimeSpan.FromSeconds(60);
    /// <summary>Sessions a deploy may use (1 = no resume).</summary>
    public int ResumeAttempts { get; init; } = 3;
    /// <summary>Run only these run indices (reproducing one run).</summary>
    public IReadOnlyList<int>? Only { get; init; }
    public Action<RunResult>? OnRun { get; init; }

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

public sealed record RunResult(int Index, Scenario Scenario, RunOutcome Outcome, long FaultsInjected, int Sessions,
    bool CollateralDamage, string? ErrorCode, string? Error, TimeSpan Elapsed)
{
    public string Describe() =>
        $"run {Index} (seed {Scenario.Seed}): {Scenario.Label}: {Outcome}{(CollateralDamage ? " +collateral" : "")}, " +
        $"{FaultsInjected} faults, {Sessions} session(s), {Elapsed.TotalSeconds:0.0} s{(Error is null ? "" : $" — {ErrorCode}: {Error}")}";
}

public sealed record CampaignReport(IReadOnlyList<RunResult> Runs, int Seed, TimeSpan Elapsed)
{
    public int Count(RunOutcome o) => Runs.Count(r => r.Outcome == o);
    public long FaultsInjected => Runs.Sum(r => r.FaultsInjected);
    public int SilentCorruptions => Count(RunOutcome.SilentCorruption);
    public int Hangs => Count(RunOutcome.Hang);
    public int UnclearFailures => Count(RunOutcome.FailedUnclearly);
    public int CollateralDamage => Runs.Count(r => r.CollateralDamage);
    public int ResumedSuccesses => Runs.Count(r => r.Outcome == RunOutcome.Succeeded && r.Sessions > 1);

    /// <summary>The headline table (Markdown).</summary>
    public string Table()
    {
        var sb = new StringBuilder();
        sb.AppendLine("| runs | faults injected | succeeded | (after resume) | failed with a clear error | failed unclearly | silent corruptions | damage outside target | hangs |");
        sb.AppendLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        sb.AppendLine($"| {Runs.Count} | {FaultsInjected} | {Count(RunOutcome.Succeeded)} | {ResumedSuccesses} | {Count(RunOutcome.FailedClearly)} | {UnclearFailures} | {SilentCorruptions} | {CollateralDamage} | {Hangs} |");
        return sb.ToString();
    }

    /// <summary>Outcomes per fault class and the error codes of the clear failures.</summary>
    public string Details()
    {
        var sb = new StringBuilder();
        sb.AppendLine("| fault class | runs | faults | succeeded | failed (clear) | silent | hangs |");
        sb.AppendLine("|---|---:|---:|---:|---:|---:|---:|");
        foreach (var g in Runs.GroupBy(r => r.Scenario.Class).OrderBy(g => g.Key))
            sb.AppendLine($"| {g.Key} | {g.Count()} | {g.Sum(r => r.FaultsInjected)} | {g.Count(r => r.Outcome == RunOutcome.Succeeded)} | " +
                $"{g.Count(r => r.Outcome == RunOutcome.FailedClearly)} | {g.Count(r => r.Outcome == RunOutcome.SilentCorruption)} | {g.Count(r => r.Outcome == RunOutcome.Hang)} |");
        sb.AppendLine();
        sb.AppendLine("| error code of clear failures | count |");
        sb.AppendLine("|---|---:|");
        foreach (var g in Runs.Where(r => r.Outcome == RunOutcome.FailedClearly).GroupBy(r => r.ErrorCode).OrderByDescending(g => g.Count()))
            sb.AppendLine($"| {g.Key} | {g.Count()} |");
        return sb.ToString();
    }
}

/// <summary>
/// The seeded fault campaign: each run writes a random image to a fresh virtual chip whose link injects faults,
/// then compares the chip's flash (read directly, not through the protocol) with what the engine reported.
/// </summary>
public static class Campaign
{
    /// <summary>The seed of run <paramref name="index"/> in a campaign seeded with <paramref name="seed"/>.</summary>
    public static int RunSeed(int seed, int index) => unchecked((int)((uint)seed * 2654435761u ^ (uint)index * 40503u + (uint)index));

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
        var chip = new VirtualChip(new VirtualChipOptions
        {
            Chip = sc.Chip,
            FlashSize = Scenario.FlashSize,
            Preloads = [new FlashPreload(sc.OldAddress, sc.Old)],
            Faults = sc.Faults,
        });
        var expected = chip.Flash.Read(0, Scenario.FlashSize);
        sc.Image.CopyTo(expected, (int)sc.Address);
        var links = new LinkState(chip, sc);
        using var abandon = new CancellationTokenSource();
        var work = Task.Run(() => OperateAsync(sc, links, options, abandon.Token), CancellationToken.None);
        var finished = await Task.WhenAny(work, Task.Delay(options.HangBound, ct)).ConfigureAwait(false);
        RunOutcome outcome;
        string? code = null, error = null;
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
                await work.ConfigureAwait(false);
                var flash = chip.Flash.Read(sc.Address, sc.Image.Length);
                outcome = flash.AsSpan().SequenceEqual(sc.Image) ? RunOutcome.Succeeded : RunOutcome.SilentCorruption;
                if (outcome == RunOutcome.SilentCorruption)
                    error = $"reported success, but the flash differs from the image at 0x{sc.Address + (uint)flash.AsSpan().CommonPrefixLength(sc.Image):X8}";
            }
            catch (EspException ex)
            {
                outcome = string.IsNullOrWhiteSpace(ex.Message) || string.IsNullOrWhiteSpace(ex.Help) ? RunOutcome.FailedUnclearly : RunOutcome.FailedClearly;
                code = ex.CodeText;
                error = ex.Message;
            }
            catch (Exception ex)
            {
                outcome = RunOutcome.FailedUnclearly;
                code = ex.GetType().Name;
                error = ex.ToString();
            }
        }

        // Whatever happened, nothing outside the target sectors may change.
        var after = chip.Flash.Read(0, Scenario.FlashSize);
        var orig = expected; // equal to the pre-run flash outside the image
        bool collateral = !after.AsSpan(0, (int)sc.TargetStart).SequenceEqual(orig.AsSpan(0, (int)sc.TargetStart))
            || !after.AsSpan((int)sc.TargetEnd).SequenceEqual(orig.AsSpan((int)sc.TargetEnd));
        if (sc.Address % Scenario.Sector != 0 && outcome == RunOutcome.Succeeded
            && !after.AsSpan((int)sc.TargetStart, (int)(sc.Address - sc.TargetStart)).SequenceEqual(orig.AsSpan((int)sc.TargetStart, (int)(sc.Address - sc.TargetStart))))
            collateral = true; // the bytes before an unaligned start must be kept

        if (collateral)
        {
            int first = -1, last = -1;
            for (int i = 0; i < after.Length; i++)
            {
                bool inside = i >= sc.Address && i < sc.End;
                if (!inside && after[i] != orig[i]) { if (first < 0) first = i; last = i; }
            }
            error = (error is null ? "" : error + "; ") + $"flash changed outside the image at 0x{first:X8}..0x{last + 1:X8}";
        }

        long faults = chip.Statistics.FaultsInjected + links.GarbageInjected;
        if (outcome != RunOutcome.Hang)
        {
            await links.DisposeAsync().ConfigureAwait(false);
            await chip.DisposeAsync().ConfigureAwait(false);
        }
        else
        {
            // A hung operation may still hold the link; let it go in the background.
            _ = Task.Run(async () => { try { await work.ConfigureAwait(false); } catch { } await links.DisposeAsync(); await chip.DisposeAsync(); }, CancellationToken.None);
        }
        return new RunResult(index, sc, outcome, faults, links.Sessions, collateral, code, error, sw.Elapsed);
    }

    private static async Task OperateAsync(Scenario sc, LinkState links, CampaignOptions options, CancellationToken ct)
    {
        if (sc.Deploy)
        {
            await ResumingDeployer.DeployAsync(links.ConnectAsync, [new DeployImage("image", sc.Address, sc.Image)],
                new DeployOptions(), new ResumeOptions { Attempts = options.ResumeAttempts, Finish = false, Backoff = TimeSpan.FromMilliseconds(20) },
                ct: ct).ConfigureAwait(false);
        }
        else
        {
            var session = await links.ConnectAsync(ct).ConfigureAwait(false);
            await using (session.ConfigureAwait(false))
                await FlashWriter.WriteAsync(session, sc.Address, sc.Image, ct: ct).ConfigureAwait(false);
        }
    }

    /// <summary>Opens a fresh link to the chip for each session (closing the previous one), as a reconnect would.</summary>
    private sealed class LinkState(VirtualChip chip, Scenario sc) : IAsyncDisposable
    {
        private IEspTransport? _current;
        public int Sessions { get; private set; }
        public long GarbageInjected => _garbage?.Injected ?? 0;
        private NoisyTransport? _garbage;

        public async Task<EspSession> ConnectAsync(CancellationToken ct)
        {
            if (_current is not null) await _current.DisposeAsync().ConfigureAwait(false);
            Sessions++;
            IEspTransport t = SimulatorPort.Connect(chip, "sim:" + sc.Chip);
            if (Sessions == 1 && sc.GarbageBytes > 0) t = _garbage = new NoisyTransport(t, sc.Seed, sc.GarbageBytes);
            _current = t;
            return await EspSession.ConnectAsync(new ConnectOptions
            {
                Port = "sim:" + sc.Chip,
                Transport = t,
                Chip = sc.Chip,
                Baud = 115200,
                After = "no-reset",
                NoStub = !sc.Stub,
                Timeouts = CampaignOptions.FastTimeouts,
                ConnectAttempts = 4,
            }, ct).ConfigureAwait(false);
        }

        public async ValueTask DisposeAsync()
        {
            if (_current is not null) await _current.DisposeAsync().ConfigureAwait(false);
            _current = null;
        }
    }
}

/// <summary>Hands the host random bytes (SLIP delimiters and escapes among them) before the chip's real output.</summary>
public sealed class NoisyTransport(IEspTransport inner, int seed, int garbageBytes) : IEspTransport
{
    private readonly Random _rng = new(seed ^ 0x6A09E667);
    private int _left = garbageBytes;
    public long Injected { get; private set; }

    public string Name => inner.Name;
    public int BaudRate => inner.BaudRate;
    public bool SupportsLineControl => inner.SupportsLineControl;
    public (int Vid, int Pid)? UsbId => inner.UsbId;
    public Task SetBaudRateAsync(int baud, CancellationToken cancellationToken = default) => inner.SetBaudRateAsync(baud, cancellationToken);
    public Task WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default) => inner.WriteAsync(data, cancellationToken);
    public Task SetLinesAsync(bool? dtr, bool? rts, CancellationToken cancellationToken = default) => inner.SetLinesAsync(dtr, rts, cancellationToken);
    public ValueTask DisposeAsync() => inner.DisposeAsync();

    public void DiscardInput() => inner.DiscardInput();

    public Task<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_left > 0 && buffer.Length > 0)
        {
            int n = Math.Min(Math.Min(_left, buffer.Length), _rng.Next(1, 300));
            var span = buffer.Span[..n];
            for (int i = 0; i < n; i++)
                span[i] = _rng.Next(8) switch { 0 => 0xC0, 1 => 0xDB, 2 => 0x01, _ => (byte)_rng.Next(256) };
            _left -= n;
            Injected++;
            return Task.FromResult(n);
        }
        return inner.ReadAsync(buffer, cancellationToken);
    }
}

