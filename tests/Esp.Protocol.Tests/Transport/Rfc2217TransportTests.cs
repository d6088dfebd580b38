using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Esp.Protocol.Errors;
using Esp.Protocol.Transport;

namespace Esp.Protocol.Tests.Transport;

/// <summary>A minimal RFC 2217 server on 127.0.0.1 that records what the client says and echoes data back.</summary>
internal sealed class MiniRfc2217Server : IAsyncDisposable
{
    private const byte IAC = 255, DONT = 254, DO = 253, WONT = 252, WILL = 251, SB = 250, SE = 240, NOP = 241;

    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _run;
    private NetworkStream? _stream;
    private readonly SemaphoreSlim _writeLock = new(1, 1);

    public MiniRfc2217Server(bool acceptComPort = true)
    {
        AcceptComPort = acceptComPort;
        _listener.Start();
        _run = Task.Run(RunAsync);
    }

    public bool AcceptComPort { get; }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>While false, SET-CONTROL is received but not answered.</summary>
    public volatile bool AnswerSetControl = true;

    /// <summary>When set, every echoed chunk is wrapped in Telnet noise (NOP, a modem-state notification).</summary>
    public volatile bool InjectTelnetNoise = true;

    public ConcurrentQueue<string> Options { get; } = new();            // e.g. "WILL 44"
    public ConcurrentQueue<(byte Command, byte[] Value)> Subnegotiations { get; } = new();
    public ConcurrentQueue<byte> DataReceived { get; } = new();
    public SemaphoreSlim SetControlSeen { get; } = new(0);

    private async Task RunAsync()
    {
        try
        {
            using var client = await _listener.AcceptTcpClientAsync(_stop.Token);
            _stream = client.GetStream();
            var buf = new byte[4096];
            var sub = new List<byte>();
            int state = 0; // 0 data, 1 IAC, 2 option verb, 3 sub, 4 sub IAC
            byte verb = 0;
            while (true)
            {
                int n = await _stream.ReadAsync(buf, _stop.Token);
                if (n == 0) return;
                var echo = new List<byte>();
                for (int i = 0; i < n; i++)
                {
                    byte b = buf[i];
                    switch (state)
                    {
                        case 0:
                            if (b == IAC) state = 1;
                            else { DataReceived.Enqueue(b); echo.Add(b); }
                            break;
                        case 1:
                            if (b == IAC) { DataReceived.Enqueue(b); echo.Add(b); state = 0; }
                            else if (b is WILL or WONT or DO or DONT) { verb = b; state = 2; }
                            else if (b == SB) { sub.Clear(); state = 3; }
                            else state = 0;
                            break;
                        case 2:
                            state = 0;
                            Options.Enqueue($"{Verb(verb)} {b}");
                            if (verb == WILL) await SendAsync([IAC, b == 44 && !AcceptComPort ? DONT : DO, b]);
                            else if (verb == DO && b is 0 or 3) await SendAsync([IAC, WILL, b]);
                            break;
                        case 3:
                            if (b == IAC) state = 4; else sub.Add(b);
                            break;
                        case 4:
                            if (b == IAC) { sub.Add(IAC); state = 3; break; }
                            state = 0;
                            await OnSubAsync(sub.ToArray());
                            break;
                    }
                }
                if (echo.Count > 0) await EchoAsync(echo);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or ObjectDisposedException)
        {
        }
    }

    private static string Verb(byte v) => v switch { WILL => "WILL", WONT => "WONT", DO => "DO", _ => "DONT" };

    private async Task OnSubAsync(byte[] sub)
    {
        if (sub.Length < 2 || sub[0] != 44) return;
        var value = sub[2..];
        Subnegotiations.Enqueue((sub[1], value));
        if (sub[1] == 5)
        {
            SetControlSeen.Release();
            if (!AnswerSetControl) return;
        }
        await SendSubAsync((byte)(sub[1] + 100), value);
    }

    /// <summary>Answers all SET-CONTROL requests received so far (after <see cref="AnswerSetControl"/> was false).</summary>
    public async Task AnswerPendingSetControlAsync(int count)
    {
        for (int i = 0; i < count; i++) await SendSubAsync(105, [8]);
    }

    private async Task SendSubAsync(byte command, byte[] value)
    {
        var frame = new List<byte> { IAC, SB, 44, command };
        foreach (var b in value) { frame.Add(b); if (b == IAC) frame.Add(IAC); }
        frame.Add(IAC);
        frame.Add(SE);
        await SendAsync(frame.ToArray());
    }

    private async Task EchoAsync(List<byte> data)
    {
        var frame = new List<byte>();
        if (InjectTelnetNoise) frame.AddRange([IAC, NOP]);
        foreach (var b in data)
        {
            frame.Add(b);
            if (b == IAC) frame.Add(IAC);
        }
        // NOTIFY-MODEMSTATE (107) with a value containing an escaped 0xFF, then a stray option request.
        if (InjectTelnetNoise) frame.AddRange([IAC, SB, 44, 107, IAC, IAC, IAC, SE, IAC, DO, 24]);
        await SendAsync(frame.ToArray());
    }

    public async Task SendAsync(byte[] bytes)
    {
        await _writeLock.WaitAsync();
        try { await _stream!.WriteAsync(bytes); }
        finally { _writeLock.Release(); }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        try { await _run.WaitAsync(TimeSpan.FromSeconds(5)); } catch (TimeoutException) { }
        _stop.Dispose();
    }
}

public class Rfc2217TransportTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(10);

    private static Task<byte[]> ReadExactlyAsync(IEspTransport t, int count) => TransportReads.ReadExactlyAsync(t, count, Limit);

    [Fact]
    public async Task NegotiatesOptionsAndPortSettings()
    {
        await using var server = new MiniRfc2217Server();
        await using var t = await TransportFactory.OpenAsync($"rfc2217://127.0.0.1:{server.Port}", new TransportOptions { BaudRate = 115200 });

        Assert.True(t.SupportsLineControl);
        Assert.Contains("WILL 0", server.Options);
        Assert.Contains("DO 0", server.Options);
        Assert.Contains("WILL 3", server.Options);
        Assert.Contains("DO 3", server.Options);
        Assert.Contains("WILL 44", server.Options);

        var subs = server.Subnegotiations.ToArray();
        var baud = Assert.Single(subs, s => s.Command == 1);
        Assert.Equal(115200u, BinaryPrimitives.ReadUInt32BigEndian(baud.Value));
        Assert.Equal(new byte[] { 8 }, Assert.Single(subs, s => s.Command == 2).Value);
        Assert.Equal(new byte[] { 1 }, Assert.Single(subs, s => s.Command == 3).Value);
        Assert.Equal(new byte[] { 1 }, Assert.Single(subs, s => s.Command == 4).Value);
        Assert.Equal(new byte[] { 1 }, Assert.Single(subs, s => s.Command == 5).Value); // no flow control
    }

    [Fact]
    public async Task SetLinesSendsSetControlForBothLines()
    {
        await using var server = new MiniRfc2217Server();
        await using var t = await TransportFactory.OpenAsync($"rfc2217://127.0.0.1:{server.Port}");
        server.Subnegotiations.Clear();

        await t.SetLinesAsync(true, false);
        await t.SetLinesAsync(null, true);
        await t.SetLinesAsync(false, null);

        var controls = server.Subnegotiations.Where(s => s.Command == 5).Select(s => s.Value.Single()).ToArray();
        Assert.Equal(new byte[] { 8, 12, 11, 9 }, controls);
        var lines = Assert.IsAssignableFrom<IModemLineState>(t);
        Assert.False(lines.Dtr);
        Assert.True(lines.Rts);
    }

    [Fact]
    public async Task SetBaudRateSendsSetBaudrate()
    {
        await using var server = new MiniRfc2217Server();
        await using var t = await TransportFactory.OpenAsync($"rfc2217://127.0.0.1:{server.Port}");
        server.Subnegotiations.Clear();
        await t.SetBaudRateAsync(460800);
        var baud = Assert.Single(server.Subnegotiations, s => s.Command == 1);
        Assert.Equal(460800u, BinaryPrimitives.ReadUInt32BigEndian(baud.Value));
        Assert.Equal(460800, t.BaudRate);
    }

    [Fact]
    public async Task SetLinesWaitsForTheServersAcknowledgement()
    {
        await using var server = new MiniRfc2217Server();
        await using var t = await TransportFactory.OpenAsync($"rfc2217://127.0.0.1:{server.Port}");
        server.AnswerSetControl = false;

        var set = t.SetLinesAsync(true, true);
        Assert.True(await server.SetControlSeen.WaitAsync(Limit));
        Assert.True(await server.SetControlSeen.WaitAsync(Limit));
        Assert.False(set.IsCompleted); // both requests arrived, neither is answered yet

        await server.AnswerPendingSetControlAsync(1);
        Assert.False(set.IsCompleted);
        await server.AnswerPendingSetControlAsync(1);
        await set.WaitAsync(Limit);
    }

    [Fact]
    public async Task UnacknowledgedDtrRtsMeansTheServerCannotDriveTheLines()
    {
        // ser2net on a device without modem control (a pseudo-terminal) answers every request but these.
        await using var server = new MiniRfc2217Server();
        await using var t = await TransportFactory.OpenAsync($"rfc2217://127.0.0.1:{server.Port}?timeout=0.3");
        server.AnswerSetControl = false;
        var ex = await Assert.ThrowsAsync<EspException>(() => t.SetLinesAsync(false, true).WaitAsync(Limit));
        Assert.Equal(EspErrorCode.LineControlUnsupported, ex.Code);
        Assert.Contains("SET-CONTROL", ex.Message);
        Assert.Contains("--before no-reset", ex.Help);
        Assert.Contains("ign_set_control", ex.Help);
        Assert.False(t.SupportsLineControl);

        // Later changes fail at once instead of waiting for the server again.
        int seen = server.Subnegotiations.Count;
        var again = await Assert.ThrowsAsync<EspException>(() => t.SetLinesAsync(true, null).WaitAsync(TimeSpan.FromMilliseconds(250)));
        Assert.Equal(EspErrorCode.LineControlUnsupported, again.Code);
        Assert.Equal(seen, server.Subnegotiations.Count);
    }

    [Fact]
    public async Task IgnSetControlDoesNotWaitForAnswers()
    {
        await using var server = new MiniRfc2217Server();
        server.AnswerSetControl = false;
        await using var t = await TransportFactory.OpenAsync($"rfc2217://127.0.0.1:{server.Port}?ign_set_control&timeout=0.3");
        await t.SetLinesAsync(true, false).WaitAsync(Limit);
        // The client does not wait for the server; the server records the request when it has read it.
        var deadline = DateTime.UtcNow + Limit;
        while (!server.Subnegotiations.Any(s => s.Command == 5 && s.Value.Single() == 8) && DateTime.UtcNow < deadline)
            await Task.Delay(10);
        Assert.Contains(server.Subnegotiations, s => s.Command == 5 && s.Value.Single() == 8);
    }

    [Fact]
    public async Task All256ByteValuesRoundTripWithIacEscapingAndTelnetStripped()
    {
        await using var server = new MiniRfc2217Server();
        await using var t = await TransportFactory.OpenAsync($"rfc2217://127.0.0.1:{server.Port}");
        server.DataReceived.Clear();
        var all = Enumerable.Range(0, 256).Select(i => (byte)i).Concat(new byte[] { 0xFF, 0xFF, 0xC0 }).ToArray();

        await t.WriteAsync(all);
        var echoed = await ReadExactlyAsync(t, all.Length);

        Assert.Equal(all, echoed);                       // Telnet noise stripped, 0xFF un-doubled
        Assert.Equal(all, server.DataReceived.ToArray()); // the server saw each 0xFF doubled on the wire
    }

    [Fact]
    public void EscapeDoublesIac()
    {
        Assert.Equal(new byte[] { 1, 0xFF, 0xFF, 2, 0xFF, 0xFF }, TelnetCodec.Escape([1, 0xFF, 2, 0xFF]));
        Assert.Equal(new byte[] { 1, 2 }, TelnetCodec.Escape([1, 2]));
    }

    [Fact]
    public async Task ServerRefusingComPortOptionIsAClearError()
    {
        await using var server = new MiniRfc2217Server(acceptComPort: false);
        var ex = await Assert.ThrowsAsync<EspException>(() => TransportFactory.OpenAsync($"rfc2217://127.0.0.1:{server.Port}?timeout=2"));
        Assert.Equal(EspErrorCode.ProtocolViolation, ex.Code);
    }

    [Fact]
    public async Task NothingListeningIsPortNotFound()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var ex = await Assert.ThrowsAsync<EspException>(() => TransportFactory.OpenAsync($"rfc2217://127.0.0.1:{port}"));
        Assert.Equal(EspErrorCode.PortNotFound, ex.Code);
    }

    [Theory]
    [InlineData("rfc2217://host")]
    [InlineData("rfc2217://host:99999")]
    [InlineData("rfc2217://127.0.0.1:4000?bogus")]
    public async Task BadUrisAreInvalidPortUri(string uri)
    {
        var ex = await Assert.ThrowsAsync<EspException>(() => TransportFactory.OpenAsync(uri));
        Assert.Equal(EspErrorCode.InvalidPortUri, ex.Code);
    }

    [Fact]
    public async Task ServerClosingEndsReadsWithZero()
    {
        var server = new MiniRfc2217Server();
        await using var t = await TransportFactory.OpenAsync($"rfc2217://127.0.0.1:{server.Port}");
        var read = t.ReadAsync(new byte[8]);
        await server.DisposeAsync();
        Assert.Equal(0, await read.WaitAsync(Limit));
    }
}
