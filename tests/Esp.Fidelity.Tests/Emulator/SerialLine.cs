using System.Net;
using System.Net.Sockets;

namespace Esp.Fidelity.Tests.Emulator;

/// <summary>
/// Stands in for the serial cable between a test's sessions and QEMU: one connection to QEMU's UART, held for the
/// emulator's life, and a local port that one session at a time connects to. Bytes flow both ways while a session is
/// connected; what the chip sends between sessions is dropped (as a closed serial port's driver discards it).
/// </summary>
public sealed class SerialLine : IAsyncDisposable
{
    private readonly TcpClient _qemu;
    private readonly NetworkStream _chip;
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;
    private readonly Task _fromChip;
    private NetworkStream? _session;

    private SerialLine(TcpClient qemu, TcpListener listener)
    {
        _qemu = qemu;
        _chip = qemu.GetStream();
        _listener = listener;
        _accepting = Task.Run(AcceptLoopAsync);
        _fromChip = Task.Run(ChipToSessionAsync);
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public static async Task<SerialLine> OpenAsync(int qemuPort)
    {
        var qemu = new TcpClient { NoDelay = true };
        await qemu.ConnectAsync(IPAddress.Loopback, qemuPort);
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return new SerialLine(qemu, listener);
    }

    private async Task AcceptLoopAsync()
    {
        var buffer = new byte[16384];
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try { client = await _listener.AcceptTcpClientAsync(_stop.Token); }
            catch (Exception) { return; }
            using (client)
            {
                client.NoDelay = true;
                var stream = client.GetStream();
                Volatile.Write(ref _session, stream);
                try
                {
                    while (true)
                    {
                        int n = await stream.ReadAsync(buffer, _stop.Token);
                        if (n == 0) break;
                        await _chip.WriteAsync(buffer.AsMemory(0, n), _stop.Token);
                    }
                }
                catch (Exception) when (!_stop.IsCancellationRequested)
                {
                }
                catch (Exception)
                {
                    return;
                }
                finally
                {
                    Volatile.Write(ref _session, null);
                }
            }
        }
    }

    private async Task ChipToSessionAsync()
    {
        var buffer = new byte[16384];
        while (!_stop.IsCancellationRequested)
        {
            int n;
            try { n = await _chip.ReadAsync(buffer, _stop.Token); }
            catch (Exception) { return; }
            if (n == 0) return;
            if (Volatile.Read(ref _session) is { } session)
            {
                try { await session.WriteAsync(buffer.AsMemory(0, n), _stop.Token); }
                catch (Exception) when (!_stop.IsCancellationRequested) { }
                catch (Exception) { return; }
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        _qemu.Dispose();
        try { await Task.WhenAll(_accepting, _fromChip); } catch (Exception) { }
        _stop.Dispose();
    }
}
