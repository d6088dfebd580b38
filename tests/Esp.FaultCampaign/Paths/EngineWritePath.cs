using Esp.Protocol.Errors;
using Esp.Protocol.Loader;
using Esp.Protocol.Operations;

namespace Esp.FaultCampaign.Paths;

/// <summary>The engine API without resume: one session, one <see cref="FlashWriter.WriteAsync"/> (block retries and the final MD5 only).</summary>
public static class EngineWritePath
{
    public static async Task<PathResult> RunAsync(RunContext run, CancellationToken ct)
    {
        var sc = run.Scenario;
        var log = new System.Text.StringBuilder();
        try
        {
            var session = await EspSession.ConnectAsync(new ConnectOptions
            {
                Port = run.Port.Port,
                Chip = sc.Chip,
                Baud = sc.Baud,
                Before = run.Port.Before,
                After = "no-reset",
                NoStub = !sc.Stub,
                Timeouts = CampaignOptions.FastTimeouts,
                ConnectAttempts = CampaignOptions.ConnectAttempts,
                Log = line => { lock (log) log.AppendLine(line); },
            }, ct).ConfigureAwait(false);
            await using (session.ConfigureAwait(false))
                await FlashWriter.WriteAsync(session, sc.Address, sc.Image, ct: ct).ConfigureAwait(false);
            return PathResult.Success(0) with { Log = log.ToString() };
        }
        catch (EspException ex)
        {
            return PathResult.Failure(ex.CodeText, ex.Message, ex.Help) with { Log = $"{log}{ex}" };
        }
    }
}
