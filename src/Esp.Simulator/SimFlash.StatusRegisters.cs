namespace Esp.Simulator;

// Status registers SR1..SR3 (volatile and non-volatile copies, WEL/BUSY), block protection and the status-register
// lock (SRP0 with WP#, SRP1).
public sealed partial class SimFlash
{
    // SR1 bits
    internal const byte Busy = 0x01, Wel = 0x02, Bp0 = 0x04, Bp1 = 0x08, Bp2 = 0x10, Tb = 0x20, Sec = 0x40, Srp0 = 0x80;
    // SR2 bits
    internal const byte Srp1 = 0x01, Qe = 0x02, Cmp = 0x40;

    private readonly byte[] _nv = new byte[3];
    private readonly byte[] _vol = new byte[3];

    /// <summary>Status registers as a read would see them (volatile copy, plus BUSY/WEL).</summary>
    public byte[] StatusRegisters
    {
        get
        {
            lock (_lock)
            {
                var r = (byte[])_vol.Clone();
                r[0] = (byte)((r[0] & ~(Busy | Wel)) | (_wel ? Wel : 0) | (IsBusy ? Busy : 0));
                return r;
            }
        }
    }

    /// <summary>Volatile copies of SR1..SR3 (what the protection logic uses).</summary>
    public byte[] VolatileStatus { get { lock (_lock) return (byte[])_vol.Clone(); } }

    /// <summary>Non-volatile SR1..SR3 (what a power cycle restores).</summary>
    public byte[] NonVolatileStatus { get { lock (_lock) return (byte[])_nv.Clone(); } }

    public bool WriteEnabled { get { lock (_lock) return _wel; } }

    private static byte WritableMask(int reg) => reg switch { 0 => 0xFC, 1 => 0x7B, _ => 0x64 };

    private bool StatusLocked => (_vol[1] & Srp1) != 0 || ((_vol[0] & Srp0) != 0 && WriteProtectPinLow);

    /// <summary>Protected byte range [start, end) per BP/TB/SEC/CMP (W25Q32/GD25Q32 table, generalised to 1/64 units).</summary>
    internal (long Start, long End) ProtectedRange()
    {
        lock (_lock) return ProtectedRangeLocked();
    }

    private (long Start, long End) ProtectedRangeLocked()
    {
        int bp = (_vol[0] >> 2) & 7;
        bool tb = (_vol[0] & Tb) != 0, sec = (_vol[0] & Sec) != 0, cmp = (_vol[1] & Cmp) != 0;
        long size = _data.Length;
        long len;
        if (bp == 0) len = 0;
        else if (bp == 7) len = size;
        else if (sec) len = Math.Min(SectorSize << Math.Min(bp - 1, 3), size);
        else len = Math.Min(Math.Max(size / 64, 0x10000) << (bp - 1), size);
        long start = tb ? 0 : size - len, end = tb ? len : size;
        if (!cmp) return (start, end);
        // Complement: the rest of the array. Only expressible as one range because the protected part is at an end.
        if (len == 0) return (0, size);
        if (len == size) return (0, 0);
        return tb ? (len, size) : (0, size - len);
    }

    private bool IsProtected(long start, long length)
    {
        var (ps, pe) = ProtectedRangeLocked();
        return pe > ps && start < pe && start + length > ps;
    }

    /// <summary>What the ROM's/stub's SPIUnlock does: clear BP/TB/SEC/CMP with a non-volatile WRSR. False if locked.</summary>
    internal bool Unlock()
    {
        lock (_lock)
        {
            var (ps, pe) = ProtectedRangeLocked();
            if (pe <= ps) return true;
            if (StatusLocked) return false;
            _nv[0] &= unchecked((byte)~(Bp0 | Bp1 | Bp2 | Tb | Sec));
            _nv[1] &= unchecked((byte)~Cmp);
            _vol[0] = _nv[0]; _vol[1] = _nv[1];
            return true;
        }
    }

    private void WriteStatus(byte opcode, ReadOnlySpan<byte> data)
    {
        bool isVolatile = _volatileWriteEnable;
        if (!isVolatile && !_wel) return;
        if (StatusLocked) { _wel = false; _volatileWriteEnable = false; return; }
        int first = opcode == 0x01 ? 0 : opcode == 0x31 ? 1 : 2;
        // WRSR (01h) takes one or two bytes (SR1, then SR2); one byte leaves SR2 as it is (W25Q "FV/JV" behaviour).
        int count = opcode == 0x01 ? Math.Min(data.Length, 2) : 1;
        for (var i = 0; i < count; i++)
        {
            int reg = first + i;
            byte mask = WritableMask(reg);
            byte v = (byte)((_vol[reg] & ~mask) | (data[i] & mask));
            if (reg == 1) v |= (byte)(_vol[1] & 0x38); // LB1-3 are one-time programmable
            _vol[reg] = v;
            if (!isVolatile) _nv[reg] = (byte)((_nv[reg] & ~mask) | (v & mask) | (reg == 1 ? _nv[1] & 0x38 : 0));
        }
        if (!isVolatile) SetBusy(_timing.StatusWrite);
        _wel = false;
        _volatileWriteEnable = false;
    }
}
