using System.Buffers.Binary;

namespace Esp.Simulator;

/// <summary>
/// The chip's address space as READ_REG/WRITE_REG/MEM_DATA see it:
/// <list type="bullet">
/// <item>SRAM banks (data view, and the instruction-bus alias where the chip has one) — plain memory;</item>
/// <item>the detection magic word at 0x40001000 (mask ROM);</item>
/// <item>eFuse read registers — read-only values derived from the configured identity;</item>
/// <item>the SPI1 flash controller (§5) — executes user commands against <see cref="SimFlash"/>;</item>
/// <item>UART0 CLKDIV — derived from crystal and current baud (or QEMU's fixed value);</item>
/// <item>peripheral windows — a register file: written values read back, unwritten ones read their reset value (0 unless listed);</item>
/// <item>anything else (unmapped, mask ROM, flash cache windows) — reads 0, writes are ignored (real silicon would raise a
/// bus error; the loaders would crash, which helps nobody testing a host tool).</item>
/// </list>
/// Unaligned word addresses are aligned down.
/// </summary>
internal sealed class MemoryBus
{
    private readonly ChipProfile _p;
    private readonly byte[][] _banks;
    private readonly Dictionary<uint, uint> _regs = new();
    private readonly Dictionary<uint, uint> _resetRegs;
    private readonly Dictionary<uint, uint> _efuse;
    private readonly Func<uint> _clkdiv;
    private readonly uint _magic;
    private readonly object _lock = new();

    public SpiController Spi { get; }

    public MemoryBus(ChipProfile p, SimFlash flash, uint magic, Dictionary<uint, uint> efuse, Dictionary<uint, uint> resetRegs, Func<uint> clkdiv)
    {
        _p = p;
        _magic = magic;
        _banks = p.Sram.Select(b => new byte[b.Size]).ToArray();
        _efuse = efuse;
        _resetRegs = resetRegs;
        _clkdiv = clkdiv;
        Spi = new SpiController(p.Spi, flash);
        Reset();
    }

    /// <summary>Power-on: registers back to reset values. RAM keeps its (random on silicon, here previous) content.</summary>
    public void Reset()
    {
        lock (_lock)
        {
            _regs.Clear();
            foreach (var kv in _resetRegs) _regs[kv.Key] = kv.Value;
            Spi.Reset();
        }
    }

    private bool TryRam(uint addr, out byte[] bank, out int offset)
    {
        for (var i = 0; i < _p.Sram.Length; i++)
        {
            var b = _p.Sram[i];
            if (addr >= b.DataStart && addr - b.DataStart < b.Size) { bank = _banks[i]; offset = (int)(addr - b.DataStart); return true; }
            if (b.InstrStart is { } s && addr >= s && addr - s < b.Size) { bank = _banks[i]; offset = (int)(addr - s); return true; }
        }
        bank = []; offset = 0;
        return false;
    }

    public bool IsRam(uint addr) => TryRam(addr, out _, out _);

    private bool InPeripheralWindow(uint addr)
    {
        foreach (var (s, e) in _p.PeripheralWindows)
            if (addr >= s && addr < e) return true;
        return false;
    }

    private bool InEfuse(uint addr) => _p.EfuseBase is { } b && addr >= b && addr < b + 0x200;

    public uint ReadWord(uint addr)
    {
        addr &= ~3u;
        lock (_lock)
        {
            if (addr == 0x40001000) return _magic;
            if (Spi.Contains(addr)) return Spi.Read(addr);
            if (addr == _p.UartClkdivAddress) return _clkdiv();
            if (_efuse.TryGetValue(addr, out var ev)) return ev;
            if (InEfuse(addr)) return 0;
            if (TryRam(addr, out var bank, out var off)) return BinaryPrimitives.ReadUInt32LittleEndian(bank.AsSpan(off));
            if (InPeripheralWindow(addr)) return _regs.TryGetValue(addr, out var v) ? v : 0;
            return 0;
        }
    }

    public void WriteWord(uint addr, uint value)
    {
        addr &= ~3u;
        lock (_lock)
        {
            if (Spi.Contains(addr)) { Spi.Write(addr, value); return; }
            if (_efuse.ContainsKey(addr) || InEfuse(addr) || addr == _p.UartClkdivAddress) return;
            if (TryRam(addr, out var bank, out var off)) { BinaryPrimitives.WriteUInt32LittleEndian(bank.AsSpan(off), value); return; }
            if (InPeripheralWindow(addr)) _regs[addr] = value;
        }
    }

    /// <summary>WRITE_REG semantics: mask 0xFFFFFFFF writes directly, otherwise read-modify-write.</summary>
    public void WriteMasked(uint addr, uint value, uint mask)
    {
        lock (_lock)
        {
            if (mask == 0xFFFFFFFF) WriteWord(addr, value);
            else WriteWord(addr, (value & mask) | (ReadWord(addr) & ~mask));
        }
    }

    public byte[] ReadBytes(uint addr, int length)
    {
        var r = new byte[length];
        lock (_lock)
        {
            for (var i = 0; i < length; i++)
            {
                var a = addr + (uint)i;
                if (TryRam(a, out var bank, out var off)) r[i] = bank[off];
                else r[i] = (byte)(ReadWord(a) >> (int)(8 * (a & 3)));
            }
        }
        return r;
    }

    /// <summary>MEM_DATA store: RAM bytes land in RAM; bytes elsewhere are dropped (flash windows, ROM).</summary>
    public void WriteBytes(uint addr, ReadOnlySpan<byte> data)
    {
        lock (_lock)
            for (var i = 0; i < data.Length; i++)
                if (TryRam(addr + (uint)i, out var bank, out var off)) bank[off] = data[i];
    }
}

/// <summary>
/// SPI1 (flash) controller registers as esptool's run_spiflash_command drives them (§5): CMD bit 18 starts a user
/// transaction and clears itself; USR selects the phases; USR1 holds address bit length (and on ESP8266 the data
/// lengths); USR2 the command; MOSI/MISO_DLEN the data lengths; W0..W15 the 64-byte data buffer, LSB first.
/// </summary>
internal sealed class SpiController
{
    private readonly SpiRegs _r;
    private readonly SimFlash _flash;
    private readonly Dictionary<uint, uint> _regs = new();
    private uint _userReset, _user2Reset;

    public SpiController(SpiRegs r, SimFlash flash)
    {
        _r = r;
        _flash = flash;
    }

    public void SetResetValues(uint user, uint user2) { _userReset = user; _user2Reset = user2; }

    public void Reset()
    {
        _regs.Clear();
        _regs[_r.Usr] = _userReset;
        _regs[_r.Usr2] = _user2Reset;
    }

    public void ResetUser2() => _regs[_r.Usr2] = _user2Reset;

    public bool Contains(uint addr) => addr >= _r.Base && addr < _r.Base + 0x100;

    public uint Read(uint addr) => _regs.TryGetValue(addr - _r.Base, out var v) ? v : 0;

    /// <summary>
    /// The ROM's own flash read routine leaves USR_ADDR | USR_MISO set in SPI_USER, and on the newer chips the READ
    /// command (8-bit 0x03) in SPI_USER2; the ESP32 stub does the latter too (seen in the traces).
    /// </summary>
    public void NoteRomFlashRead(bool byStub = false)
    {
        _regs[_r.Usr] = Read(_r.Base + _r.Usr) | 0x50000000;
        if (!_r.AddrLeftJustified || byStub) _regs[_r.Usr2] = 0x70000003;
    }

    public uint User => Read(_r.Base + _r.Usr);

    public void Write(uint addr, uint value)
    {
        var off = addr - _r.Base;
        if (off == 0 && (value & (1u << 18)) != 0)
        {
            Execute();
            value = 0; // command bits self-clear when the transaction is done
        }
        _regs[off] = value;
    }

    private uint Reg(uint off) => _regs.TryGetValue(off, out var v) ? v : 0;

    private void Execute()
    {
        uint usr = Reg(_r.Usr), usr1 = Reg(_r.Usr1), usr2 = Reg(_r.Usr2);
        bool hasAddr = (usr & (1u << 30)) != 0, hasMiso = (usr & (1u << 28)) != 0, hasMosi = (usr & (1u << 27)) != 0;
        int cmdBits = (int)((usr2 >> 28) & 0xF) + 1;
        byte opcode = (byte)(usr2 & (cmdBits >= 8 ? 0xFFu : (1u << cmdBits) - 1));
        int addrBits = (int)((usr1 >> 26) & 0x3F) + 1;
        int misoBits, mosiBits;
        if (_r.MisoDlen is { } md && _r.MosiDlen is { } od)
        {
            misoBits = (int)(Reg(md) & 0x3FFFF) + 1;
            mosiBits = (int)(Reg(od) & 0x3FFFF) + 1;
        }
        else
        {
            misoBits = (int)((usr1 >> 8) & 0x1FF) + 1;
            mosiBits = (int)((usr1 >> 17) & 0x1FF) + 1;
        }
        uint? address = null;
        if (hasAddr)
        {
            var raw = Reg(4);
            address = _r.AddrLeftJustified ? (addrBits >= 32 ? raw : raw >> (32 - addrBits)) : raw;
            if (addrBits < 32) address &= (1u << addrBits) - 1;
        }
        var mosi = new byte[hasMosi ? Math.Min((mosiBits + 7) / 8, 64) : 0];
        for (var i = 0; i < mosi.Length; i++) mosi[i] = (byte)(Reg(_r.W0 + (uint)(i & ~3)) >> (8 * (i & 3)));
        int misoBytes = hasMiso ? Math.Min((misoBits + 7) / 8, 64) : 0;
        var miso = _flash.Transaction(opcode, address, mosi, misoBytes);
        if (hasMiso)
        {
            // Trailing bits of a partial byte are zero; words are rewritten whole (upper bytes zero).
            if (misoBits % 8 != 0) miso[^1] &= (byte)((1 << (misoBits % 8)) - 1);
            for (var w = 0; w < (misoBytes + 3) / 4; w++)
            {
                uint v = 0;
                for (var b = 0; b < 4; b++)
                    if (w * 4 + b < miso.Length) v |= (uint)miso[w * 4 + b] << (8 * b);
                _regs[_r.W0 + (uint)(4 * w)] = v;
            }
        }
    }
}
