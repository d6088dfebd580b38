using System.Buffers.Binary;

namespace Esp.Simulator.Tests;

/// <summary>
/// Test-side host: its own minimal SLIP codec (deliberately not the simulator's) plus packet builders that follow
/// the loader's framing and commands by hand (as tests/Traces/README.md describes them).
/// </summary>
internal sealed class TestLink : IDisposable
{
    private readonly Stream _s;
    private readonly List<byte> _frame = new();
    private bool _inFrame, _esc;
    private readonly Queue<byte> _pending = new();

    public TestLink(Stream s) => _s = s;

    /// <summary>Bytes seen outside SLIP frames (boot banners).</summary>
    public List<byte> Raw { get; } = new();

    public static byte[] Slip(ReadOnlySpan<byte> p)
    {
        var o = new List<byte> { 0xC0 };
        foreach (var b in p)
        {
            if (b == 0xC0) o.AddRange([0xDB, 0xDC]);
            else if (b == 0xDB) o.AddRange([0xDB, 0xDD]);
            else o.Add(b);
        }
        o.Add(0xC0);
        return o.ToArray();
    }

    public static byte[] Command(byte op, ReadOnlySpan<byte> data, uint checksum = 0)
    {
        var p = new byte[8 + data.Length];
        p[1] = op;
        BinaryPrimitives.WriteUInt16LittleEndian(p.AsSpan(2), (ushort)data.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(p.AsSpan(4), checksum);
        data.CopyTo(p.AsSpan(8));
        return p;
    }

    public static byte[] Words(params uint[] w)
    {
        var d = new byte[w.Length * 4];
        for (var i = 0; i < w.Length; i++) BinaryPrimitives.WriteUInt32LittleEndian(d.AsSpan(4 * i), w[i]);
        return d;
    }

    public static byte Xor(ReadOnlySpan<byte> d)
    {
        byte c = 0xEF;
        foreach (var b in d) c ^= b;
        return c;
    }

    public static byte[] DataCommand(byte op, uint seq, ReadOnlySpan<byte> payload, int checksumDelta = 0)
    {
        var d = new byte[16 + payload.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(d, (uint)payload.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(d.AsSpan(4), seq);
        payload.CopyTo(d.AsSpan(16));
        return Command(op, d, (uint)(Xor(payload) ^ checksumDelta));
    }

    public static readonly byte[] SyncPayload = [0x07, 0x07, 0x12, 0x20, .. Enumerable.Repeat((byte)0x55, 32)];

    public void SendPacket(byte[] packet) { var w = Slip(packet); _s.Write(w, 0, w.Length); _s.Flush(); }
    public void SendRaw(byte[] bytes) { _s.Write(bytes, 0, bytes.Length); _s.Flush(); }

    public byte[] Transact(byte op, ReadOnlySpan<byte> data, uint checksum = 0)
    {
        SendPacket(Command(op, data, checksum));
        return ReadFrame();
    }

    /// <summary>Reads the next SLIP frame (timeout keeps a broken sim from hanging the suite).</summary>
    public byte[] ReadFrame(int timeoutMs = 5000)
    {
        using var cts = new CancellationTokenSource(timeoutMs);
        var started = Environment.TickCount64;
        var buf = new byte[4096];
        while (true)
        {
            while (_pending.Count > 0)
            {
                var f = Push(_pending.Dequeue());
                if (f is not null) return f;
            }
            int n;
            if (_s is HostStream)
            {
                // A blocking read: waiting for an async read's continuation can take longer than a short timeout
                // when the thread pool is starved on a busy machine.
                var left = (int)Math.Max(0, timeoutMs - (Environment.TickCount64 - started));
                if (left == 0) throw new TimeoutException("no frame from the chip");
                _s.ReadTimeout = left;
                n = _s.Read(buf, 0, buf.Length); // throws TimeoutException
            }
            else
            {
                try { n = _s.ReadAsync(buf, 0, buf.Length, cts.Token).GetAwaiter().GetResult(); }
                catch (OperationCanceledException) { throw new TimeoutException("no frame from the chip"); }
            }
            if (n == 0) throw new EndOfStreamException("link closed");
            for (var i = 0; i < n; i++) _pending.Enqueue(buf[i]);
        }
    }

    /// <summary>Reads whatever arrives within the window (raw bytes).</summary>
    /// <summary>Reads until <paramref name="text"/> has arrived (Latin-1) or <paramref name="ms"/> pass; the machine may be busy.</summary>
    public byte[] ReadUntil(string text, int ms = 10_000)
    {
        var all = new List<byte>();
        var end = Environment.TickCount64 + ms;
        while (Environment.TickCount64 < end)
        {
            all.AddRange(ReadFor(100));
            if (System.Text.Encoding.Latin1.GetString(all.ToArray()).Contains(text, StringComparison.Ordinal)) break;
        }
        return all.ToArray();
    }

    public byte[] ReadFor(int ms)
    {
        var result = new List<byte>(_pending);
        _pending.Clear();
        var buf = new byte[4096];
        var end = Environment.TickCount64 + ms;
        while (true)
        {
            var left = end - Environment.TickCount64;
            if (left <= 0) break;
            using var cts = new CancellationTokenSource((int)left);
            try
            {
                var n = _s.ReadAsync(buf, 0, buf.Length, cts.Token).GetAwaiter().GetResult();
                if (n == 0) break;
                result.AddRange(buf.AsSpan(0, n).ToArray());
            }
            catch (OperationCanceledException) { break; }
            catch (IOException) { break; }
        }
        return result.ToArray();
    }

    private byte[]? Push(byte b)
    {
        if (!_inFrame)
        {
            if (b == 0xC0) { _inFrame = true; _frame.Clear(); }
            else Raw.Add(b);
            return null;
        }
        if (_esc)
        {
            _esc = false;
            _frame.Add(b == 0xDC ? (byte)0xC0 : b == 0xDD ? (byte)0xDB : throw new InvalidDataException("bad SLIP escape"));
            return null;
        }
        if (b == 0xDB) { _esc = true; return null; }
        if (b == 0xC0)
        {
            _inFrame = false; // like esptool: "C0 C0" yields an empty packet and goes idle
            return _frame.ToArray();
        }
        _frame.Add(b);
        return null;
    }

    /// <summary>SYNC and collect the 8 replies.</summary>
    public List<byte[]> Sync()
    {
        SendPacket(Command(0x08, SyncPayload));
        var r = new List<byte[]>();
        for (var i = 0; i < 8; i++) r.Add(ReadFrame());
        return r;
    }

    public uint ReadReg(uint addr)
    {
        var r = Transact(0x0A, Words(addr));
        Assert.Equal(0x0A, r[1]);
        Assert.Equal(0, r[8]);
        return BinaryPrimitives.ReadUInt32LittleEndian(r.AsSpan(4));
    }

    public byte[] WriteReg(uint addr, uint value, uint mask = 0xFFFFFFFF, uint delay = 0) =>
        Transact(0x09, Words(addr, value, mask, delay));

    public void Dispose() => _s.Dispose();
}

internal static class Chips
{
    public static VirtualChip New(string chip = "esp32", Func<VirtualChipOptions, VirtualChipOptions>? tweak = null)
    {
        var o = new VirtualChipOptions { Chip = chip, PrintBootBanner = false };
        if (tweak is not null) o = tweak(o);
        return new VirtualChip(o);
    }

    public static uint U32(byte[] b, int at) => BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(at));
}
