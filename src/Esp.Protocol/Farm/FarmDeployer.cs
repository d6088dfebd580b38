using Esp.Protocol.Loader;
using Esp.Protocol.Operations;
using Esp.Protocol.Transport;

namespace Esp.Protocol.Farm;

/// <summary>
/// Deploys the same images to many boards at once (<see cref="FarmRun"/>): each board plans from its own flash MD5s
/// and writes only what differs on it; the compression of what several boards write is done once and shared.
/// </summary>
public static class FarmDeployer
{
    public static async Task<IReadOnlyList<BoardResult<DeployResult>>> DeployAsync(IReadOnlyList<Board> boards, Func<Board, ConnectOptions> connectOptions,
        IReadOnlyList<DeployImage> images, DeployOptions? deploy = null, FarmOptions? farm = null, Func<Board, IProgress<EspProgress>?>? progress = null,
        Func<IReadOnlyList<SerialPortInfo>>? listPorts = null, CancellationToken ct = default)
    {
        deploy ??= new DeployOptions();
        using var compression = new CompressionCache();
        var shared = deploy with { SharedCompression = deploy.SharedCompression ?? compression };
        return await FarmRun.RunAsync(boards, connectOptions, (b, token) =>
            Deployer.DeployAsync(b.Session, images, b.Attempt.DeployOptionsFor(shared, b.Session), progress?.Invoke(b.Board), token),
            farm, listPorts, ct).ConfigureAwait(false);
    }
}
