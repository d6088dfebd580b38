namespace Esp.Protocol.Loader.Reset;

// Interim contract until the full reset strategies land (replaced on merge).
public abstract class ResetStrategy
{
    public abstract Task RunAsync(Transport.IEspTransport transport, CancellationToken cancellationToken);
}

public static class ResetStrategies
{
    public static IReadOnlyList<ResetStrategy> For(string before, Transport.IEspTransport transport, string? customSequence = null) => [];
    public static ResetStrategy HardReset(Transport.IEspTransport transport) => new NoopReset();
    private sealed class NoopReset : ResetStrategy
    {
        public override Task RunAsync(Transport.IEspTransport transport, CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
