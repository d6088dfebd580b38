using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Esp.Simulator;

/// <summary>
/// Raw TCP serial bridge, like QEMU's <c>-serial tcp:</c>: a client (esptool <c>--port socket://127.0.0.1:PORT</c>)
/// reads and writes the chip's UART bytes. One client at a time; the next one is accepted when it leaves.
/// </summary>
public class TcpSerialServer : IDisposable, IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly Thread _acceptThread;
    private volatile bool _stopping;
    private TcpClient? _current;

    protected VirtualChip Chip { get; }

    public TcpSerialServer(VirtualChip chip, int port = 0, IPAddress? address = null)
    {
        Chip = chip;
        _listener = new TcpListener(address ?? IPAddress.Loopback, port);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        // Dedicated threads (not the thread pool): reset sequences depend on line changes reaching the chip promptly.
        _acceptThread = new Thread(AcceptLoop) { IsBackground = true, Name = $"sim tcp :{Port}" };
        _acceptThread.Start();
    }

    public int Port { get; }

    private void AcceptLoop()
    {
        while (!_stopping)
        {
            TcpClient client;
            try { client = _listener.AcceptTcpClient(); }
            catch (Exception e) when (e is SocketException or ObjectDisposedException or InvalidOperationException) { return; }
            _current = client;
            try { Serve(client); }
            catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or InvalidOperationException) { }
            finally { client.Dispose(); _current = null; }
        }
    }

    private void Serve(TcpClient client)
    {
        client.NoDelay = true;
        var socket = client.Client;
        var net = client.GetStream();
        using var chip = Chip.OpenHostStream();
        var sendLock = new object();
        void ToClient(byte[] bytes)
        {
            lock (sendLock) net.Write(bytes);
        }
        OnConnected();
        void ChipToClient()
        {
            var buf = new byte[4096];
            try
            {
                while (true)
                {
                    var n = chip.Read(buf, 0, buf.Length);
                    if (n == 0) break;
                    ToClient(EncodeToClient(buf.AsSpan(0, n)));
                }
            }
            catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException) { }
            try { socket.Shutdown(SocketShutdown.Both); } catch (Exception e) when (e is SocketException or ObjectDisposedException) { }
        }
        var down = new Thread(ChipToClient) { IsBackground = true, Name = "sim tcp chip->client" };
        down.Start();
        var upBuf = new byte[4096];
        try
        {
            while (true)
            {
                var n = net.Read(upBuf, 0, upBuf.Length);
                if (n == 0) break;
                var data = FromClient(upBuf.AsSpan(0, n), ToClient);
                if (data.Length > 0) chip.Write(data);
            }
        }
        finally
        {
            chip.Dispose(); // ends the chip->client thread
            down.Join(TimeSpan.FromSeconds(2));
        }
    }

    /// <summary>Client bytes to chip bytes (telnet decoding in RFC 2217).</summary>
    protected virtual byte[] FromClient(ReadOnlySpan<byte> data, Action<byte[]> reply) => data.ToArray();

    protected virtual byte[] EncodeToClient(ReadOnlySpan<byte> data) => data.ToArray();

    protected virtual void OnConnected() { }

    public void Dispose()
    {
        _stopping = true;
        _listener.Stop();
        try { _current?.Dispose(); } catch (ObjectDisposedException) { }
        _acceptThread.Join(TimeSpan.FromSeconds(3));
        GC.SuppressFinalize(this);
    }

    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }
}

/// <summary>
/// RFC 2217 server (Telnet COM-PORT-OPTION 44): SET-BAUDRATE sets the host baud, SET-CONTROL drives DTR/RTS into the
/// auto-reset circuit, PURGE-DATA drops pending chip output; every request is answered with its server code (100+).
/// esptool: <c>--port rfc2217://127.0.0.1:PORT</c> (reset sequences then work as on a USB-UART bridge).
/// </summary>
public sealed class Rfc2217Server : TcpSerialServer
{
    private const byte Iac = 255, Will = 251, Wont = 252, Do = 253, Dont = 254, Sb = 250, Se = 240;
    private const byte ComPort = 44, Binary = 0, Sga = 3;

    private enum St { Data, Iac, Opt, Sb, SbIac }

    private St _st;
    private byte _verb;
    private readonly List<byte> _sb = new();
    private readonly HashSet<(byte, byte)> _answered = new();

    public Rfc2217Server(VirtualChip chip, int port = 0, IPAddress? address = null) : base(chip, port, address) { }

    protected override void OnConnected()
    {
        _st = St.Data;
        _sb.Clear();
        _answered.Clear();
    }

    protected override byte[] EncodeToClient(ReadOnlySpan<byte> data)
    {
        var o = new List<byte>(data.Length + 8);
        foreach (var b in data)
        {
            o.Add(b);
            if (b == Iac) o.Add(Iac);
        }
        return o.ToArray();
    }

    protected override byte[] FromClient(ReadOnlySpan<byte> data, Action<byte[]> reply)
    {
        var toChip = new List<byte>(data.Length);
        var replies = new List<byte[]>();
        foreach (var b in data)
        {
            switch (_st)
            {
                case St.Data:
                    if (b == Iac) _st = St.Iac; else toChip.Add(b);
                    break;
                case St.Iac:
                    if (b == Iac) { toChip.Add(Iac); _st = St.Data; }
                    else if (b is Will or Wont or Do or Dont) { _verb = b; _st = St.Opt; }
                    else if (b == Sb) { _sb.Clear(); _st = St.Sb; }
                    else _st = St.Data;
                    break;
                case St.Opt:
                    _st = St.Data;
                    if (Negotiate(_verb, b) is { } nr) replies.Add(nr);
                    break;
                case St.Sb:
                    if (b == Iac) _st = St.SbIac; else _sb.Add(b);
                    break;
                case St.SbIac:
                    if (b == Iac) { _sb.Add(Iac); _st = St.Sb; }
                    else
                    {
                        _st = St.Data;
                        if (b == Se && Subnegotiation([.. _sb]) is { } sr) replies.Add(sr);
                    }
                    break;
            }
        }
        // Line changes are applied as they are parsed, before this segment's data reaches the chip (clients send
        // control requests and data in separate segments and wait for the answers).
        foreach (var rep in replies) reply(rep);
        return toChip.ToArray();
    }

    private byte[]? Negotiate(byte verb, byte option)
    {
        bool supported = option is Binary or Sga or ComPort;
        byte answer = verb switch
        {
            Will => supported ? Do : Dont,
            Do => supported ? Will : Wont,
            Wont => Dont,
            _ => Wont,
        };
        // answer each (answer, option) once to avoid negotiation loops
        return _answered.Add((answer, option)) ? [Iac, answer, option] : null;
    }

    private byte[]? Subnegotiation(byte[] sb)
    {
        if (sb.Length < 2 || sb[0] != ComPort) return null;
        byte cmd = sb[1];
        var payload = sb.AsSpan(2);
        byte[] answer;
        switch (cmd)
        {
            case 1: // SET-BAUDRATE
            {
                var baud = payload.Length >= 4 ? (int)BinaryPrimitives.ReadUInt32BigEndian(payload) : 0;
                if (baud > 0) Chip.SetHostBaud(baud);
                else baud = Chip.ChipBaud;
                answer = new byte[4];
                BinaryPrimitives.WriteUInt32BigEndian(answer, (uint)baud);
                break;
            }
            case 2: answer = [payload.Length > 0 && payload[0] != 0 ? payload[0] : (byte)8]; break;   // DATASIZE
            case 3: case 4: answer = [payload.Length > 0 && payload[0] != 0 ? payload[0] : (byte)1]; break; // PARITY / STOPSIZE
            case 5: // SET-CONTROL
            {
                byte v = payload.Length > 0 ? payload[0] : (byte)0;
                switch (v)
                {
                    case 8: Chip.SetLines(true, null); break;
                    case 9: Chip.SetLines(false, null); break;
                    case 11: Chip.SetLines(null, true); break;
                    case 12: Chip.SetLines(null, false); break;
                }
                answer = [v];
                break;
            }
            case 12: // PURGE-DATA
                answer = [payload.Length > 0 ? payload[0] : (byte)0];
                break;
            case 10: case 11: answer = [payload.Length > 0 ? payload[0] : (byte)0]; break;
            default: return null; // NOTIFY-*, FLOWCONTROL-*: no answer required
        }
        var o = new List<byte> { Iac, Sb, ComPort, (byte)(cmd + 100) };
        foreach (var b in answer) { o.Add(b); if (b == Iac) o.Add(Iac); }
        o.Add(Iac); o.Add(Se);
        return o.ToArray();
    }
}
