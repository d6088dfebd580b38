using Esp.Protocol.Loader;
using Esp.Protocol.Transport;

namespace Esp.Protocol.Operations;

/// <summary>
/// Deploys with resume (<see cref="ResumableRun"/>): when a session fails on the way, it connects again and deploys
/// again. Planning on the fresh session compares sector MD5s with the images, so only what is missing or damaged is
/// rewritten, and every image is verified at the end. When every attempt fails, the error says which ranges are
/// written and verified and which are not.
/// </summary>
public static class ResumingDeployer
{
    public static Task<DeployResult> DeployAsync(ConnectOptions connect, Func<IReadOnlyList<SerialPortInfo>> listPorts,
        IReadOnlyList<DeployImage> images, DeployOptions? options = null, ResumeOptions? resume = null,
        IProgress<EspProgress>? progress = null, CancellationToken ct = default)
    {
        resume ??= new ResumeOptions();
        return DeployAsync(ResumableRun.ConnectorFor(connect, resume, listPorts), images, options, resume, progress, ct);
    }

    public static Task<DeployResult> DeployAsync(Func<CancellationToken, Task<EspSession>> connect, IReadOnlyList<DeployImage> images,
        DeployOptions? options = null, ResumeOptions? resume = null, IProgress<EspProgress>? progress = null, CancellationToken ct = default)
    {
        options ??= new DeployOptions();
        return ResumableRun.RunAsync(connect, async (session, attempt, token) =>
        {
            var result = await Deployer.DeployAsync(session, images, attempt.DeployOptionsFor(options, session), progress, token).ConfigureAwait(false);
            return attempt.IsResume ? result with { Resumes = attempt.Number - 1, ResumedAfter = attempt.After?.Message } : result;
        }, resume, ct);
    }
}
