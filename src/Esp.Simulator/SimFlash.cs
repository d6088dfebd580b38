namespace Esp.Simulator;

/// <summary>
/// SPI NOR flash model after the GigaDevice GD25Q / Winbond W25Q families: erase sets bytes to 0xFF,
/// program can only clear bits, status registers SR1..SR3 with volatile and non-volatile copies, block
/// protection (BP0-BP2, TB, SEC, CMP) honoured by erase and program, SRP0/SRP1 status-register locking,
/// JEDEC id and a JESD216 SFDP table. Addresses wrap at the chip size like a real 24-bit part.
/// Thread-safe.
/// </summary>
public sealed partial class SimFlash
{
    public const int SectorSize = 0x1000;
    public const int PageSize = 0x100;

    private readonly object _lock = new();
    private readonly byte[] _data;
    private readonly byte[] _sfdp;
    private readonly FlashTimingOptions _timing;
    private bool _wel;
    private bool _volatileWriteEnable;
    private bool _resetEnabled;
    private bool _deepPowerDown;
    private long _busyUntilTicks;

    internal SimFlash(int size, byte manufacturer, byte memoryType, byte[] initialStatus, bool wpPinLow, FlashTimingOptions timing)
    {
        if (size < 0x10000 || size > 256 * 1024 * 1024 || (size & (size - 1)) != 0)
            throw new ArgumentException($"Flash size must be a power of two between 64 KiB and 256 MiB, not {size}.", nameof(size));
        _data = new byte[size];
        _data.AsSpan().Fill(0xFF);
        Manufacturer = manufacturer;
        MemoryType = memoryType;
        CapacityId = (byte)BitOperations_Log2(size);
        for (var i = 0; i < 3 && i < initialStatus.Length; i++) _nv[i] = (byte)(initialStatus[i] & WritableMask(i));
        Array.Copy(_nv, _vol, 3);
        WriteProtectPinLow = wpPinLow;
        _timing = timing;
        _sfdp = SfdpTable.Build(size, manufacturer);
    }

    private static int BitOperations_Log2(int v) => System.Numerics.BitOperations.Log2((uint)v);

    public int Size => _data.Length;

    /// <summary>The timing model (off unless enabled).</summary>
    internal FlashTimingOptions Timing => _timing;
    public byte Manufacturer { get; }
    public byte MemoryType { get; }
    /// <summary>JEDEC capacity byte (log2 of the size in bytes; 0x16 for 4 MiB).</summary>
    public byte CapacityId { get; }
    /// <summary>The 24-bit RDID answer as esptool sees it in W0: manufacturer | type &lt;&lt; 8 | capacity &lt;&lt; 16.</summary>
    public uint JedecId => (uint)(Manufacturer | (MemoryType << 8) | (CapacityId << 16));
    public bool WriteProtectPinLow { get; set; }

    /// <summary>The JESD216 SFDP table (a copy).</summary>
    public byte[] Sfdp => (byte[])_sfdp.Clone();

    /// <summary>Raised after any change of the array contents (used to persist the state file).</summary>
    internal event Action? Changed;

    private bool IsBusy => _timing.Enabled && System.Diagnostics.Stopwatch.GetTimestamp() < _busyUntilTicks;

    public byte[] Read(uint address, int length)
    {
        var r = new byte[length];
        lock (_lock)
            for (var i = 0; i < length; i++) r[i] = _data[(int)((address + (uint)i) & (uint)(_data.Length - 1))];
        return r;
    }

    /// <summary>Raw preload: copies bytes in, ignoring protection and erase state.</summary>
    public void Load(uint address, ReadOnlySpan<byte> data)
    {
        lock (_lock)
            for (var i = 0; i < data.Length; i++) _data[(int)((address + (uint)i) & (uint)(_data.Length - 1))] = data[i];
        Changed?.Invoke();
    }

    internal void LoadImage(byte[] image)
    {
        if (image.Length != _data.Length)
            throw new InvalidDataException($"State file holds {image.Length} bytes but the flash is {_data.Length} bytes.");
        lock (_lock) image.CopyTo(_data, 0);
    }

    internal byte[] Snapshot() { lock (_lock) return (byte[])_data.Clone(); }

    /// <summary>Power cycle: volatile status = non-volatile, WEL cleared, power-down released.</summary>
    internal void PowerCycle()
    {
        lock (_lock)
        {
            Array.Copy(_nv, _vol, 3);
            _wel = false; _volatileWriteEnable = false; _resetEnabled = false; _deepPowerDown = false; _busyUntilTicks = 0;
        }
    }

    // ------------------------------------------------------------------ operations used by the loaders

    /// <summary>
    /// Loader-level erase (WREN + SE/BE/CE). Returns false if the flash ignored it (block protection, busy,
    /// power-down). <paramref name="length"/> must be a multiple of 4 KiB starting on a sector.
    /// </summary>
    internal bool Erase(uint address, int length, out TimeSpan cost)
    {
        cost = TimeSpan.Zero;
        lock (_lock)
        {
            if (_deepPowerDown) return false;
            address &= (uint)(_data.Length - 1);
            if (IsProtected(address, length)) { _wel = false; return false; }
            var len = Math.Min(length, _data.Length - (int)address);
            _data.AsSpan((int)address, len).Fill(0xFF);
            if (_timing.Enabled)
            {
                if (len >= _data.Length) cost = _timing.ChipErasePerMiB * (len / 1048576.0);
                else
                {
                    var blocks64 = len / 0x10000; var rest = len % 0x10000;
                    cost = _timing.Block64Erase * blocks64 + _timing.SectorErase * (rest / SectorSize);
                }
            }
            _wel = false;
        }
        Changed?.Invoke();
        return true;
    }

    /// <summary>Loader-level program (WREN + PP per page): AND the data into the array. False if protected.</summary>
    internal bool Program(uint address, ReadOnlySpan<byte> data, out TimeSpan cost)
    {
        cost = TimeSpan.Zero;
        lock (_lock)
        {
            if (_deepPowerDown) return false;
            address &= (uint)(_data.Length - 1);
            if (IsProtected(address, data.Length)) { _wel = false; return false; }
            for (var i = 0; i < data.Length; i++)
                _data[(int)((address + (uint)i) & (uint)(_data.Length - 1))] &= data[i];
            if (_timing.Enabled) cost = _timing.PageProgram * ((data.Length + PageSize - 1) / PageSize);
            _wel = false;
        }
        Changed?.Invoke();
        return true;
    }

    // ------------------------------------------------------------------ SPI command interface

    /// <summary>
    /// Executes one SPI transaction: opcode, optional address, bytes clocked in on MOSI, number of bytes to clock out on MISO.
    /// Returns the MISO bytes (0xFF where the flash does not drive the line).
    /// </summary>
    public byte[] Transaction(byte opcode, uint? address, ReadOnlySpan<byte> mosi, int misoLength)
    {
        var miso = new byte[misoLength];
        miso.AsSpan().Fill(0xFF);
        bool changed = false;
        lock (_lock)
        {
            if (_deepPowerDown)
            {
                if (opcode == 0xAB) { _deepPowerDown = false; FillRepeating(miso, 0x15); }
                else if (opcode == 0xFF) _deepPowerDown = false;
                return miso;
            }
            bool busy = IsBusy;
            bool resetArm = false;
            switch (opcode)
            {
                case 0x9F: // RDID
                    FillRepeating(miso, Manufacturer, MemoryType, CapacityId);
                    break;
                case 0x90: // REMS
                    FillRepeating(miso, Manufacturer, (byte)(CapacityId - 1));
                    break;
                case 0xAB: // release power-down / device id
                    FillRepeating(miso, (byte)(CapacityId - 1));
                    break;
                case 0x4B: // unique id (after 4 dummy bytes, which the controller handles)
                    for (var i = 0; i < miso.Length; i++) miso[i] = (byte)(0x10 + i);
                    break;
                case 0x05:
                case 0x35:
                case 0x15:
                {
                    int reg = opcode == 0x05 ? 0 : opcode == 0x35 ? 1 : 2;
                    byte v = _vol[reg];
                    if (reg == 0) v = (byte)((v & ~(Busy | Wel)) | (_wel ? Wel : 0) | (busy ? Busy : 0));
                    FillRepeating(miso, v);
                    break;
                }
                case 0x06: if (!busy) { _wel = true; _volatileWriteEnable = false; } break;
                case 0x50: if (!busy) _volatileWriteEnable = true; break;
                case 0x04: if (!busy) { _wel = false; _volatileWriteEnable = false; } break;
                case 0x01:
                case 0x31:
                case 0x11:
                    if (!busy && mosi.Length > 0) WriteStatus(opcode, mosi);
                    break;
                case 0x5A: // RDSFDP: 24-bit address, 8 dummy cycles
                {
                    var a = (address ?? 0) & 0xFFFFFF;
                    for (var i = 0; i < miso.Length; i++)
                    {
                        var p = a + (uint)i;
                        miso[i] = p < _sfdp.Length ? _sfdp[p] : (byte)0xFF;
                    }
                    break;
                }
                case 0x03:
                case 0x0B:
                    if (!busy)
                        for (var i = 0; i < miso.Length; i++)
                            miso[i] = _data[(int)(((address ?? 0) + (uint)i) & (uint)(_data.Length - 1))];
                    break;
                case 0x02: // page program (wraps inside the page)
                    if (!busy && _wel && address is { } pa && !IsProtected(pa & ~(uint)(PageSize - 1), PageSize))
                    {
                        for (var i = 0; i < mosi.Length; i++)
                        {
                            var p = (pa & ~(uint)(PageSize - 1)) | ((pa + (uint)i) & (PageSize - 1));
                            _data[(int)(p & (uint)(_data.Length - 1))] &= mosi[i];
                        }
                        SetBusy(_timing.PageProgram);
                        changed = true;
                    }
                    if (!busy) _wel = false;
                    break;
                case 0x20:
                case 0x52:
                case 0xD8:
                case 0x60:
                case 0xC7:
                {
                    if (busy) break;
                    if (_wel)
                    {
                        int len = opcode switch { 0x20 => SectorSize, 0x52 => 0x8000, 0xD8 => 0x10000, _ => _data.Length };
                        long start = len == _data.Length ? 0 : ((address ?? 0) & (uint)(_data.Length - 1)) & ~(uint)(len - 1);
                        if (!IsProtected(start, len))
                        {
                            _data.AsSpan((int)start, len).Fill(0xFF);
                            SetBusy(opcode switch
                            {
                                0x20 => _timing.SectorErase,
                                0x52 => _timing.Block32Erase,
                                0xD8 => _timing.Block64Erase,
                                _ => _timing.ChipErasePerMiB * (_data.Length / 1048576.0),
                            });
                            changed = true;
                        }
                    }
                    _wel = false;
                    break;
                }
                case 0x66: resetArm = true; break;
                case 0x99:
                    if (_resetEnabled && !busy)
                    {
                        Array.Copy(_nv, _vol, 3);
                        _wel = false; _volatileWriteEnable = false;
                    }
                    break;
                case 0xB9: if (!busy) _deepPowerDown = true; break;
                case 0x79: if (!busy) _deepPowerDown = true; break;
                default: break; // unknown opcodes: flash does not drive MISO
            }
            _resetEnabled = resetArm;
        }
        if (changed) Changed?.Invoke();
        return miso;
    }

    private void SetBusy(TimeSpan t)
    {
        if (_timing.Enabled)
            _busyUntilTicks = System.Diagnostics.Stopwatch.GetTimestamp() + (long)(t.TotalSeconds * System.Diagnostics.Stopwatch.Frequency);
    }

    private static void FillRepeating(byte[] dst, params byte[] pattern)
    {
        for (var i = 0; i < dst.Length; i++) dst[i] = pattern[i % pattern.Length];
    }
}
