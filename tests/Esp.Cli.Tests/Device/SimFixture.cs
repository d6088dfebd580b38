using Esp.Protocol.Transport;
using Esp.Simulator;
using Esp.Simulator.Link;

namespace Esp.Cli.Tests.Device;

/// <summary>
/// A virtual chip for one test. Commands reach it as <c>--port sim:esp32?state=FILE</c>, exactly as users write it;
/// afterwards the test opens the same state file to check the flash.
/// </summary>
public sealed class SimChip : IDisposable
{
    private static int _next;

    public SimChip(CliRunner cli, string chip = "esp32", string extra = "")
    {
        Cli = cli;
        StatePath = cli.PathOf($"flash-{Interlocked.Increment(ref _next)}.bin");
        Port = $"sim:{chip}?state={StatePath}{extra}";
    }

    public CliRunner Cli { get; }
    public string StatePath { get; }
    public string Port { get; }

    /// <summary>The flash as the state file holds it.</summary>
    public byte[] Flash() => File.ReadAllBytes(StatePath);

    /// <summary>Creates the state file: a 4 MiB erased flash with <paramref name="data"/> at <paramref name="address"/>.</summary>
    public void Preload(uint address, byte[] data, int flashSize = 4 * 1024 * 1024)
    {
        var flash = new byte[flashSize];
        Array.Fill(flash, (byte)0xFF);
        data.CopyTo(flash, (int)address);
        File.WriteAllBytes(StatePath, flash);
    }

    public Task<CliRun> RunAsync(params string[] args) => Cli.RunAsync([.. new[] { "--port", Port }, .. args]);

    public void Dispose() { }
}

/// <summary>A chip the test keeps, reached through its own port scheme (<c>keptN:</c>).</summary>
public sealed class KeptChip : IAsyncDisposable
{
    private static int _next;

    public KeptChip(string uri = "sim:esp32")
    {
        Chip = VirtualChip.FromUri(uri);
        var scheme = $"kept{Interlocked.Increment(ref _next)}";
        Port = scheme + ":chip";
        TransportFactory.Register(scheme, (name, options, _) => Task.FromResult(SimulatorPort.Connect(Chip, name, options.BaudRate)));
    }

    public VirtualChip Chip { get; }
    public string Port { get; }

    public uint Word(uint address) => BitConverter.ToUInt32(Chip.ReadMemory(address, 4));

    public ValueTask DisposeAsync() => Chip.DisposeAsync();
}
