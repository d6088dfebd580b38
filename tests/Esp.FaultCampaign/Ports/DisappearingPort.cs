using Esp.Protocol.Transport;
using Esp.Simulator;

namespace Esp.FaultCampaign.Ports;

/// <summary>
/// The chip behind a pseudo-terminal, reached through a symlink in the run's directory (<c>ttyUSB0</c>) and listed
/// with a USB serial number, so the real serial transport and the port waiter do the work. Once the write is
/// <see cref="PortFault.AfterWriteBytes"/> bytes in, the port disappears: it comes back under the same path
/// (PortLoss), under another path with the same serial number (Reenumeration), or never (PortGone).
/// </summary>
public sealed class DisappearingPort : ChipPort
{
    private const byte FlashBegin = 0x02, FlashDeflBegin = 0x10;
    private readonly VirtualChip _chip;
    private readonly Scenario _scenario;
    private readonly string _directory;
    private readonly string _serialNumber;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _watcher;
    private PtyHost? _host;
    private IReadOnlyList<SerialPortInfo> _listed;
    private int _lost;

    public DisappearingPort(VirtualChip chip, Scenario scenario, string runDirectory)
    {
        _chip = chip;
        _scenario = scenario;
        _directory = runDirectory;
        _serialNumber = $"{(uint)scenario.Seed:X8}";
        _host = new PtyHost(chip, Path.Combine(runDirectory, "ttyUSB0"));
        Port = _host.Path;
        _listed = [Listed(_host.Path)];
        _watcher = Task.Run(() => WatchAsync(_stop.Token));
    }

    public override string Port { get; }
    public override string Before => "no-reset";
    public override IReadOnlyList<SerialPortInfo> ListPorts() => Volatile.Read(ref _listed);
    public override long FaultsInjected => Volatile.Read(ref _lost);

    private SerialPortInfo Listed(string path) => new(path, 0x10C4, 0xEA60, "Silicon Labs", "CP2102N USB to UART Bridge Controller", SerialNumber: _serialNumber);

    private async Task WatchAsync(CancellationToken ct)
    {
        var fault = _scenario.PortFault ?? throw new InvalidOperationException("a disappearing port needs a port fault");
        try
        {
            // Progress, not time: the write has begun and has sent this many bytes since.
            long? start = null;
            while (true)
            {
                var stats = _chip.Statistics;
                if (start is null && stats.Commands(FlashBegin) + stats.Commands(FlashDeflBegin) > 0) start = stats.BytesFromHost;
                if (start is { } s && stats.BytesFromHost >= s + fault.AfterWriteBytes) break;
                await Task.Delay(1, ct).ConfigureAwait(false);
            }

            // Unlisted first, then gone: as the system sees a USB device leave.
            Volatile.Write(ref _listed, []);
            _host?.Dispose();
            _host = null;
            Volatile.Write(ref _lost, 1);
            if (_scenario.Class == FaultClass.PortGone) return;

            await Task.Delay(fault.Outage, ct).ConfigureAwait(false);
            string name = _scenario.Class == FaultClass.Reenumeration ? "ttyUSB1" : "ttyUSB0";
            _host = new PtyHost(_chip, Path.Combine(_directory, name));
            Volatile.Write(ref _listed, [Listed(_host.Path)]);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }

    public override async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _watcher.ConfigureAwait(false);
        _host?.Dispose();
        _host = null;
        _stop.Dispose();
    }
}
