namespace Esp.Simulator;

/// <summary>Counters of a <see cref="VirtualChip"/> (thread-safe; properties return snapshots).</summary>
public sealed class SimStatistics
{
    private readonly object _lock = new();
    private readonly Dictionary<byte, long> _commands = new();
    private readonly Dictionary<FaultKind, long> _faults = new();
    private long _in, _out, _frames;
    private int _maxBuffered;

    public IReadOnlyDictionary<byte, long> CommandsByOpcode { get { lock (_lock) return new Dictionary<byte, long>(_commands); } }
    public IReadOnlyDictionary<FaultKind, long> Faults { get { lock (_lock) return new Dictionary<FaultKind, long>(_faults); } }
    /// <summary>Total number of injected faults (every kind except <see cref="FaultKind.RxOverrun"/> and <see cref="FaultKind.BaudMismatch"/>, which are link effects).</summary>
    public long FaultsInjected { get { lock (_lock) return _faults.Where(kv => kv.Key is not FaultKind.RxOverrun and not FaultKind.BaudMismatch).Sum(kv => kv.Value); } }
    public long BytesFromHost => Interlocked.Read(ref _in);
    public long BytesToHost => Interlocked.Read(ref _out);
    public long FramesReceived => Interlocked.Read(ref _frames);
    /// <summary>Largest number of bytes waiting in the chip's receive buffer.</summary>
    public int MaxBytesBuffered { get { lock (_lock) return _maxBuffered; } }

    public long Commands(byte opcode) { lock (_lock) return _commands.TryGetValue(opcode, out var v) ? v : 0; }
    public long FaultCount(FaultKind kind) { lock (_lock) return _faults.TryGetValue(kind, out var v) ? v : 0; }

    internal void Command(byte op) { lock (_lock) _commands[op] = (_commands.TryGetValue(op, out var v) ? v : 0) + 1; Interlocked.Increment(ref _frames); }
    internal void Fault(FaultKind k, long n = 1) { if (n == 0) return; lock (_lock) _faults[k] = (_faults.TryGetValue(k, out var v) ? v : 0) + n; }
    internal void In(long n) => Interlocked.Add(ref _in, n);
    internal void Out(long n) => Interlocked.Add(ref _out, n);
    internal void Buffered(int n) { lock (_lock) if (n > _maxBuffered) _maxBuffered = n; }

    public override string ToString() =>
        $"in {BytesFromHost} B, out {BytesToHost} B, frames {FramesReceived}, faults {FaultsInjected}, max buffered {MaxBytesBuffered} B";
}

/// <summary>Seeded per-byte corruption for one direction of the link. Same seed and input → same output.</summary>
internal sealed class ByteFaultInjector
{
    private readonly Random _rng;
    private readonly FaultOptions _o;
    private readonly SimStatistics _stats;

    public ByteFaultInjector(FaultOptions o, int seed, SimStatistics stats)
    {
        _o = o;
        _rng = new Random(seed);
        _stats = stats;
    }

    public bool Active => _o.DropByteRate > 0 || _o.FlipBitRate > 0 || _o.InsertByteRate > 0;

    public byte[] Apply(ReadOnlySpan<byte> data)
    {
        if (!Active) return data.ToArray();
        var result = new List<byte>(data.Length + 4);
        foreach (var original in data)
        {
            var b = original;
            if (_o.DropByteRate > 0 && _rng.NextDouble() < _o.DropByteRate) { _stats.Fault(FaultKind.DropByte); continue; }
            if (_o.FlipBitRate > 0 && _rng.NextDouble() < _o.FlipBitRate)
            {
                b ^= (byte)(1 << _rng.Next(8));
                _stats.Fault(FaultKind.FlipBit);
            }
            result.Add(b);
            if (_o.InsertByteRate > 0 && _rng.NextDouble() < _o.InsertByteRate)
            {
                result.Add((byte)_rng.Next(256));
                _stats.Fault(FaultKind.InsertByte);
            }
        }
        return result.ToArray();
    }
}
