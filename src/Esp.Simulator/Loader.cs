using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Esp.Simulator;

/// <summary>What the protocol engine needs from the chip runtime.</summary>
internal interface ILoaderHost
{
    void Send(ReadOnlySpan<byte> packet);
    void SendRaw(ReadOnlySpan<byte> bytes);
    /// <summary>Blocks for the next SLIP frame; throws <see cref="ChipInterruptedException"/> when the chip is reset.</summary>
    byte[] ReadFrame();
    void Sleep(TimeSpan t);
    void SetChipBaud(int baud);
    void LeaveLoader(ChipMode mode, uint? entry);
    void EnterStub(StubKind kind, uint entry);
    void SoftwareReboot();
    void RecordSegment(LoadedSegment segment);
}

internal sealed class ChipInterruptedException : Exception
{
    public ChipInterruptedException() : base("chip interrupted") { }
}

/// <summary>
/// The serial bootloader protocol engine: ROM loader semantics and flasher stub semantics (legacy and new).
/// Runs on the chip thread only.
/// </summary>
internal sealed class Loader
{
    private const uint SyncWord = 0x20120707;
    private readonly ChipProfile _p;
    private readonly VirtualChipOptions _o;
    private readonly MemoryBus _bus;
    private readonly SimFlash _flash;
    private readonly ILoaderHost _host;

    // ROM "last value" register and last reply shape (for the invalid-command echo).
    private uint _lastValue;
    private byte _lastReplyOp;
    private int _lastReplyCount = 1;

    // Flash/RAM download state
    private int _romFlashSize;
    private bool _flashMode, _deflMode, _encryptedWrite;
    private uint _flashOffset, _flashNext, _flashBlockSize;
    private long _flashRemaining, _flashEnd;
    private readonly HashSet<uint> _erasedSectors = new();
    private Inflater? _inflater;
    private byte _deferredError;
    private bool _memMode;
    private uint _memOffset, _memBlockSize, _memSize;
    private MemoryStream? _memData;
    private readonly List<LoadedSegment> _sessionSegments = new();

    public Loader(ChipProfile p, VirtualChipOptions o, MemoryBus bus, SimFlash flash, ILoaderHost host)
    {
        _p = p; _o = o; _bus = bus; _flash = flash; _host = host;
        ResetState();
    }

    public bool InStub { get; private set; }
    public StubKind StubKind { get; private set; } = StubKind.New;

    /// <summary>Back to a freshly booted ROM loader.</summary>
    public void ResetState()
    {
        InStub = false;
        _lastValue = 0; _lastReplyOp = 0; _lastReplyCount = 1;
        _romFlashSize = _p.IsEsp8266 ? _flash.Size : 2 * 1024 * 1024;
        _flashMode = _deflMode = _memMode = false;
        _deferredError = 0;
        _inflater?.Dispose(); _inflater = null;
        _memData = null;
        _sessionSegments.Clear();
        _erasedSectors.Clear();
    }

    public void StartStub(StubKind kind)
    {
        ResetState();
        InStub = true;
        StubKind = kind;
    }

    private bool SecureDownload => _o.SecureDownload && !_p.IsEsp8266 && !_p.IsEsp32;
    private bool FlashEncryption => System.Numerics.BitOperations.PopCount((uint)_o.FlashCryptCnt) % 2 == 1;

    // ------------------------------------------------------------------ replies

    private byte[] BuildRomReply(byte op, ReadOnlySpan<byte> data, byte status = 0, byte error = 0)
    {
        int sb = _p.RomStatusBytes;
        var pkt = new byte[8 + data.Length + sb];
        pkt[0] = 1; pkt[1] = op;
        BinaryPrimitives.WriteUInt16LittleEndian(pkt.AsSpan(2), (ushort)(data.Length + sb));
        BinaryPrimitives.WriteUInt32LittleEndian(pkt.AsSpan(4), _lastValue);
        data.CopyTo(pkt.AsSpan(8));
        pkt[8 + data.Length] = status;
        pkt[9 + data.Length] = error;
        return pkt;
    }

    private void RomReply(byte op, ReadOnlySpan<byte> data, byte status = 0, byte error = 0, int repeat = 1)
    {
        var pkt = BuildRomReply(op, data, status, error);
        for (var i = 0; i < repeat; i++) _host.Send(pkt);
        _lastReplyOp = op;
        _lastReplyCount = repeat;
    }

    private void RomFail(byte op, byte error) => RomReply(op, [], 1, error);

    /// <summary>
    /// Unknown or forbidden command: the ROM re-sends its previous reply (op and count as before, stale value)
    /// with status 01 05 — as the ESP32 traces show (8 copies after SYNC, one after WRITE_REG).
    /// </summary>
    private void RomInvalid()
    {
        int sb = _p.RomStatusBytes;
        var pkt = new byte[8 + sb];
        pkt[0] = 1; pkt[1] = _lastReplyOp;
        BinaryPrimitives.WriteUInt16LittleEndian(pkt.AsSpan(2), (ushort)sb);
        BinaryPrimitives.WriteUInt32LittleEndian(pkt.AsSpan(4), _lastValue);
        pkt[8] = 1; pkt[9] = 5;
        for (var i = 0; i < Math.Max(1, _lastReplyCount); i++) _host.Send(pkt);
    }

    private void StubReply(byte op, ReadOnlySpan<byte> data, byte error = 0, uint value = 0, int repeat = 1, int? sizeField = null)
    {
        var pkt = new byte[8 + data.Length + 2];
        pkt[0] = 1; pkt[1] = op;
        BinaryPrimitives.WriteUInt16LittleEndian(pkt.AsSpan(2), (ushort)(sizeField ?? data.Length + 2));
        BinaryPrimitives.WriteUInt32LittleEndian(pkt.AsSpan(4), value);
        data.CopyTo(pkt.AsSpan(8));
        pkt[8 + data.Length] = error;
        for (var i = 0; i < repeat; i++) _host.Send(pkt);
    }

    private static uint W(ReadOnlySpan<byte> d, int i) => BinaryPrimitives.ReadUInt32LittleEndian(d.Slice(4 * i));

    private static byte Checksum(ReadOnlySpan<byte> data)
    {
        byte c = 0xEF;
        foreach (var b in data) c ^= b;
        return c;
    }

    // ------------------------------------------------------------------ dispatch

    public void Handle(byte[] frame)
    {
        if (frame.Length < 8) return;
        byte op = frame[1];
        int size = BinaryPrimitives.ReadUInt16LittleEndian(frame.AsSpan(2));
        uint checksum = BinaryPrimitives.ReadUInt32LittleEndian(frame.AsSpan(4));
        var data = frame.AsSpan(8);
        if (InStub) HandleStub(frame[0], op, size, checksum, data);
        else if (frame[0] == 0) HandleRom(op, size, checksum, data);
    }

    // ================================================================== ROM

    private static readonly byte[] SdmAllowed = [0x08, 0x0D, 0x0B, 0x0F, 0x02, 0x03, 0x04, 0x14];

    private void HandleRom(byte op, int size, uint checksum, ReadOnlySpan<byte> data)
    {
        if (!_p.RomKnows(op) || (SecureDownload && Array.IndexOf(SdmAllowed, op) < 0)) { RomInvalid(); return; }
        if (data.Length != size) { RomFail(op, 0x05); return; }
        switch (op)
        {
            case 0x08: // SYNC
                if (data.Length < 4) return;
                _lastValue = W(data, 0);
                RomReply(op, [], repeat: 8);
                break;
            case 0x0A: // READ_REG
                if (data.Length != 4) { RomFail(op, 0x05); return; }
                _lastValue = _bus.ReadWord(W(data, 0));
                RomReply(op, []);
                break;
            case 0x09: // WRITE_REG
                if (data.Length == 0 || data.Length % 16 != 0) { RomFail(op, 0x05); return; }
                WriteRegs(data);
                RomReply(op, []);
                break;
            case 0x05: // MEM_BEGIN
                if (data.Length != 16) { RomFail(op, 0x05); return; }
                MemBegin(data);
                RomReply(op, []);
                break;
            case 0x07: // MEM_DATA
            {
                if (data.Length < 16) { RomFail(op, 0x05); return; }
                var payload = data[16..];
                if (W(data, 0) != payload.Length) { RomFail(op, 0x05); return; }
                if (Checksum(payload) != (checksum & 0xFF)) { RomFail(op, 0x07); return; }
                if (!_memMode) { RomFail(op, 0x06); return; }
                MemData(W(data, 1), payload);
                RomReply(op, []);
                break;
            }
            case 0x06: // MEM_END
            {
                if (data.Length != 8) { RomFail(op, 0x05); return; }
                uint flag = W(data, 0), entry = W(data, 1);
                FinishMemSegment();
                if (flag == 0 && FindStub(entry) is null) _host.LeaveLoader(ChipMode.RunningUserCode, entry);
                RomReply(op, []);
                if (flag == 0 && FindStub(entry) is { } kind) _host.EnterStub(kind, entry);
                break;
            }
            case 0x02: case 0x10: // FLASH_BEGIN / FLASH_DEFL_BEGIN
                RomFlashBegin(op, data);
                break;
            case 0x03: case 0x11:
                RomFlashData(op, checksum, data);
                break;
            case 0x04: case 0x12: // FLASH_END / FLASH_DEFL_END
            {
                if (data.Length < 4) { RomFail(op, 0x05); return; }
                _flashMode = _deflMode = false;
                var reply = BuildRomReply(op, []);
                if (W(data, 0) == 0) _host.SoftwareReboot();
                else _host.LeaveLoader(ChipMode.BootedApp, null);
                _host.Send(reply);
                break;
            }
            case 0x0B: // SPI_SET_PARAMS
                if (data.Length != 24) { RomFail(op, 0x05); return; }
                _romFlashSize = (int)Math.Min(W(data, 1), int.MaxValue);
                RomReply(op, []);
                break;
            case 0x0D: // SPI_ATTACH (ROM takes 8 bytes; 4 tolerated)
                if (data.Length != 8 && data.Length != 4) { RomFail(op, 0x05); return; }
                RomReply(op, []);
                break;
            case 0x0E: // READ_FLASH_SLOW
            {
                if (data.Length < 8) { RomFail(op, 0x05); return; }
                uint off = W(data, 0), len = W(data, 1);
                if (len > 64) { RomFail(op, 0x0A); return; }
                if (off + len > (uint)_romFlashSize) { RomFail(op, 0x09); return; }
                _bus.Spi.NoteRomFlashRead();
                RomReply(op, _flash.Read(off, 64));
                break;
            }
            case 0x0F: // CHANGE_BAUDRATE
            {
                if (data.Length != 8) { RomFail(op, 0x05); return; }
                RomReply(op, []);
                _host.SendRaw([0xC0, 0xC0]); // the ROM emits an empty frame after the reply (traces)
                _host.SetChipBaud((int)W(data, 0));
                break;
            }
            case 0x13: // SPI_FLASH_MD5
            {
                if (data.Length != 16) { RomFail(op, 0x05); return; }
                uint addr = W(data, 0), len = W(data, 1);
                if ((long)addr + len > _romFlashSize) { RomFail(op, 0x09); return; }
                _bus.Spi.NoteRomFlashRead();
                var md5 = MD5.HashData(_flash.Read(addr, (int)len));
                SpendHashTime(len, stub: false);
                RomReply(op, System.Text.Encoding.ASCII.GetBytes(Convert.ToHexStringLower(md5)));
                break;
            }
            case 0x14:
                RomReply(op, SecurityInfo());
                break;
            default:
                RomInvalid();
                break;
        }
    }

    private void WriteRegs(ReadOnlySpan<byte> data)
    {
        for (var i = 0; i + 16 <= data.Length; i += 16)
        {
            var rec = data.Slice(i, 16);
            uint addr = W(rec, 0), value = W(rec, 1), mask = W(rec, 2), delay = W(rec, 3);
            if (delay > 0) _host.Sleep(TimeSpan.FromTicks(delay * 10L));
            _bus.WriteMasked(addr, value, mask);
        }
    }

    private byte[] SecurityInfo()
    {
        int len = _p.SecurityInfoLength;
        var d = new byte[len];
        uint flags = _o.SecurityFlags | (SecureDownload ? 4u : 0u);
        BinaryPrimitives.WriteUInt32LittleEndian(d, flags);
        d[4] = (byte)_o.FlashCryptCnt;
        d[11] = 0x0C; // key purpose slot 7 as the C3/C6 ROMs report it
        if (len >= 20)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(d.AsSpan(12), (uint)(_p.ImageChipId ?? 0));
            BinaryPrimitives.WriteUInt32LittleEndian(d.AsSpan(16), (uint)_p.SecurityApiVersion);
        }
        return d;
    }

    // ------------------------------------------------------------------ RAM download

    private void MemBegin(ReadOnlySpan<byte> data)
    {
        FinishMemSegment();
        _memSize = W(data, 0);
        _memBlockSize = W(data, 2);
        _memOffset = W(data, 3);
        _memData = new MemoryStream();
        _memMode = true;
    }

    private void MemData(uint seq, ReadOnlySpan<byte> payload)
    {
        var at = _memOffset + seq * _memBlockSize;
        _bus.WriteBytes(at, payload);
        if (_memData is not null)
        {
            _memData.Position = seq * _memBlockSize;
            _memData.Write(payload);
        }
    }

    private void FinishMemSegment()
    {
        if (_memData is null) return;
        var seg = new LoadedSegment(_memOffset, _memData.ToArray());
        _sessionSegments.Add(seg);
        _host.RecordSegment(seg);
        _memData = null;
        _memMode = false;
    }

    /// <summary>A jump starts a stub when a segment of this session was loaded at a known stub text_start and holds the entry.</summary>
    private StubKind? FindStub(uint entry)
    {
        foreach (var site in _p.StubSites)
            foreach (var seg in _sessionSegments)
                if (seg.Address == site.TextStart && entry >= seg.Address && entry < seg.Address + (uint)seg.Data.Length)
                    return site.Kind;
        return null;
    }

    // ------------------------------------------------------------------ ROM flash download

    /// <summary>ESP8266 ROM erase bug: given n sectors it erases n + min(16 - start % 16, n) (esptool compensates).</summary>
    private static int Esp8266RomEraseSectors(uint offset, uint eraseSize)
    {
        int n = (int)((eraseSize + SimFlash.SectorSize - 1) / SimFlash.SectorSize);
        int head = 16 - (int)((offset / SimFlash.SectorSize) % 16);
        return n + Math.Min(head, n);
    }

    private void RomFlashBegin(byte op, ReadOnlySpan<byte> data)
    {
        bool legacyRom = _p.IsEsp8266 || _p.IsEsp32;
        if (data.Length != 16 && (legacyRom || data.Length != 20)) { RomFail(op, 0x05); return; }
        if (op == 0x10 && _p.IsEsp8266) { RomInvalid(); return; }
        uint eraseSize = W(data, 0), blockSize = W(data, 2), offset = W(data, 3);
        _encryptedWrite = data.Length == 20 && W(data, 4) != 0;
        long eraseBytes = _p.IsEsp8266 ? (long)Esp8266RomEraseSectors(offset, eraseSize) * SimFlash.SectorSize
            : (eraseSize + SimFlash.SectorSize - 1) / SimFlash.SectorSize * SimFlash.SectorSize;
        if (eraseSize == 0) eraseBytes = 0;
        uint start = offset & ~(uint)(SimFlash.SectorSize - 1);
        if (start + eraseBytes > _romFlashSize) { RomFail(op, 0x06); return; }
        // The ROM does not unlock the flash: protected sectors are silently skipped by the chip; the
        // write-back verification of FLASH_DATA then reports 0x08.
        for (long a = start; a < start + eraseBytes; a += SimFlash.SectorSize)
        {
            _flash.Erase((uint)a, SimFlash.SectorSize, out var cost);
            if (cost > TimeSpan.Zero) _host.Sleep(cost);
        }
        _flashOffset = offset; _flashNext = offset; _flashBlockSize = blockSize;
        _flashRemaining = eraseSize;
        _flashMode = op == 0x02; _deflMode = op == 0x10;
        _inflater?.Dispose();
        _inflater = _deflMode ? new Inflater() : null;
        RomReply(op, []);
    }

    private void RomFlashData(byte op, uint checksum, ReadOnlySpan<byte> data)
    {
        if (data.Length < 16) { RomFail(op, 0x05); return; }
        var payload = data[16..];
        if (W(data, 0) != payload.Length) { RomFail(op, 0x05); return; }
        if (Checksum(payload) != (checksum & 0xFF)) { RomFail(op, 0x07); return; }
        bool defl = op == 0x11;
        if (defl ? !_deflMode : !_flashMode) { RomFail(op, 0x06); return; }
        byte[] plain;
        if (defl)
        {
            try { plain = _inflater!.Feed(payload); }
            catch (InvalidDataException) { RomFail(op, 0x0B); return; }
        }
        else
        {
            plain = payload.ToArray();
            _flashNext = _flashOffset + W(data, 1) * _flashBlockSize;
        }
        if (plain.Length > 0 && !RomWrite(_flashNext, plain)) { RomFail(op, 0x08); return; }
        _flashNext += (uint)plain.Length;
        if (defl && _p.IsEsp32 && _inflater!.TotalOut >= _flashRemaining && _flashRemaining > 0)
        {
            // ESP32 ROM quirk (traces README): at the end of the stream the whole 32 KiB inflate window is
            // written out; bytes past the data are zeros and get programmed into the (unerased) flash.
            long window = (_inflater.TotalOut + 0x7FFF) / 0x8000 * 0x8000;
            var pad = (int)(window - _inflater.TotalOut);
            if (pad > 0) _flash.Program(_flashNext, new byte[pad], out _);
            _flashRemaining = 0;
        }
        RomReply(op, []);
    }

    private bool RomWrite(uint address, byte[] plain)
    {
        if (address + (long)plain.Length > _romFlashSize) return false;
        var stored = _encryptedWrite && FlashEncryption ? Encrypt(address, plain) : plain;
        _flash.Program(address, stored, out var cost);
        if (cost > TimeSpan.Zero) _host.Sleep(cost);
        _bus.Spi.NoteRomFlashRead();
        return _flash.Read(address, stored.Length).AsSpan().SequenceEqual(stored);
    }

    /// <summary>Stand-in for the chip's flash encryption: an address-keyed XOR, enough to make raw contents differ.</summary>
    private static byte[] Encrypt(uint address, byte[] plain)
    {
        var r = new byte[plain.Length];
        for (var i = 0; i < plain.Length; i++)
        {
            uint a = address + (uint)i;
            r[i] = (byte)(plain[i] ^ (byte)((a * 2654435761u) >> 24) ^ 0x5A);
        }
        return r;
    }

    // ================================================================== stub

    private void HandleStub(byte direction, byte op, int size, uint checksum, ReadOnlySpan<byte> data)
    {
        bool legacy = StubKind == StubKind.Legacy;
        if (direction != 0)
        {
            if (!legacy) StubReply(op, [], 0xC3);
            return;
        }
        if (!legacy && data.Length != size) { StubReply(op, [], 0xC0); return; }
        if (!legacy && _deferredError != 0 && op != 0x08)
        {
            // New stub: an error from deferred work answers the next command, which is not executed.
            var e = _deferredError;
            _deferredError = 0;
            StubReply(op, [], e);
            return;
        }
        switch (op)
        {
            case 0x08:
                if (data.Length != 36) { StubReply(op, [], 0xC0); return; }
                StubReply(op, [], repeat: 8);
                break;
            case 0x0A:
                if (data.Length != 4) { StubReply(op, [], 0xC0); return; }
                StubReply(op, [], value: _bus.ReadWord(W(data, 0)));
                break;
            case 0x09:
                if (data.Length == 0 || data.Length % 16 != 0) { StubReply(op, [], legacy ? (byte)0xC0 : (byte)0xC8); return; }
                WriteRegs(data);
                StubReply(op, []);
                break;
            case 0x05:
                if (data.Length != 16) { StubReply(op, [], 0xC0); return; }
                MemBegin(data);
                StubReply(op, []);
                break;
            case 0x07:
            {
                if (data.Length < 16) { StubReply(op, [], legacy ? (byte)0xC0 : (byte)0xC8); return; }
                var payload = data[16..];
                if (W(data, 0) != payload.Length || payload.Length % 4 != 0) { StubReply(op, [], 0xC0); return; }
                if (!_memMode) { StubReply(op, [], 0xC6); return; }
                long written = _memData?.Length ?? 0;
                if (written + payload.Length > _memSize) { StubReply(op, [], 0xC9); return; }
                MemData(W(data, 1), payload);
                StubReply(op, []);
                break;
            }
            case 0x06:
            {
                if (data.Length != 8) { StubReply(op, [], 0xC0); return; }
                if (_memMode && (_memData?.Length ?? 0) < _memSize && legacy) { StubReply(op, [], 0xC8); return; }
                uint flag = W(data, 0), entry = W(data, 1);
                FinishMemSegment();
                if (flag == 0 && FindStub(entry) is null) _host.LeaveLoader(ChipMode.RunningUserCode, entry);
                StubReply(op, []);
                if (flag == 0 && FindStub(entry) is { } kind) _host.EnterStub(kind, entry);
                break;
            }
            case 0x02: case 0x10:
                StubFlashBegin(op, data);
                break;
            case 0x03: case 0x11:
                StubFlashData(op, checksum, data);
                break;
            case 0x04: case 0x12:
                StubFlashEnd(op, data);
                break;
            case 0x0B:
                if (data.Length != 24) { StubReply(op, [], 0xC0); return; }
                StubReply(op, []);
                break;
            case 0x0D:
                if (data.Length != 4) { StubReply(op, [], 0xC0); return; }
                StubReply(op, []);
                break;
            case 0x0F:
                if (data.Length != 8) { StubReply(op, [], 0xC0); return; }
                StubReply(op, []);
                _host.SetChipBaud((int)W(data, 0));
                break;
            case 0x13:
            {
                if (data.Length != 16) { StubReply(op, [], 0xC0); return; }
                _bus.Spi.NoteRomFlashRead(byStub: true);
                var md5 = MD5.HashData(_flash.Read(W(data, 0), (int)W(data, 1)));
                SpendHashTime(W(data, 1), stub: true);
                StubReply(op, md5);
                break;
            }
            case 0x14:
                if (data.Length != 0) { StubReply(op, [], 0xC0); return; }
                if (_p.SecurityInfoLength == 0) { StubReply(op, [], 0xFF); return; }
                var info = SecurityInfo();
                StubReply(op, info, sizeField: legacy ? info.Length : info.Length + 2);
                break;
            case 0xD0: // ERASE_FLASH
                if (data.Length != 0) { StubReply(op, [], 0xC0); return; }
                if (!_flash.Unlock()) { StubReply(op, [], 0xC5); return; }
                if (!_flash.Erase(0, _flash.Size, out var chipCost)) { StubReply(op, [], 0xC4); return; }
                if (chipCost > TimeSpan.Zero) _host.Sleep(chipCost);
                StubReply(op, []);
                break;
            case 0xD1: // ERASE_REGION
            {
                if (data.Length != 8) { StubReply(op, [], 0xC0); return; }
                uint addr = W(data, 0), len = W(data, 1);
                if (addr % SimFlash.SectorSize != 0) { StubReply(op, [], legacy ? (byte)0x32 : (byte)0xC0); return; }
                if (len % SimFlash.SectorSize != 0) { StubReply(op, [], legacy ? (byte)0x33 : (byte)0xC0); return; }
                if (!_flash.Unlock()) { StubReply(op, [], legacy ? (byte)0x34 : (byte)0xC5); return; }
                for (long a = addr; a < (long)addr + len; a += SimFlash.SectorSize)
                {
                    if (!_flash.Erase((uint)a, SimFlash.SectorSize, out var c)) { StubReply(op, [], legacy ? (byte)0x35 : (byte)0xC4); return; }
                    if (c > TimeSpan.Zero) _host.Sleep(c);
                }
                StubReply(op, []);
                break;
            }
            case 0xD2:
                StubReadFlash(op, data);
                break;
            case 0xD3: // RUN_USER_CODE: no reply
                _host.LeaveLoader(ChipMode.BootedApp, null);
                break;
            default:
                StubReply(op, [], legacy ? (byte)0xFF : (byte)0xC3);
                break;
        }
    }

    private void StubFlashBegin(byte op, ReadOnlySpan<byte> data)
    {
        bool legacy = StubKind == StubKind.Legacy;
        if (data.Length != 16 && data.Length != 20) { StubReply(op, [], 0xC0); return; }
        uint eraseSize = W(data, 0), blockSize = W(data, 2), offset = W(data, 3);
        if (blockSize > 0x4000 && legacy) { StubReply(op, [], 0xC2); return; }
        if (!_flash.Unlock()) { StubReply(op, [], 0xC5); return; }
        _encryptedWrite = data.Length == 20 && W(data, 4) != 0;
        _flashOffset = _flashNext = offset;
        _flashBlockSize = blockSize;
        _flashRemaining = eraseSize;
        _flashEnd = (long)offset + eraseSize;
        _erasedSectors.Clear();
        _flashMode = op == 0x02; _deflMode = op == 0x10;
        _deferredError = 0;
        _inflater?.Dispose();
        _inflater = _deflMode ? new Inflater() : null;
        StubReply(op, []);
    }

    /// <summary>With flash timing on, an MD5 takes the time a chip needs to read and hash the range.</summary>
    private void SpendHashTime(uint length, bool stub)
    {
        var t = _flash.Timing;
        if (!t.Enabled || length == 0) return;
        var perMiB = stub ? t.StubMd5PerMiB : t.RomMd5PerMiB;
        _host.Sleep(TimeSpan.FromTicks((long)(perMiB.Ticks * (length / 1048576.0))));
    }

    /// <summary>Least time the new stub spends on a data block after answering it.</summary>
    private static readonly TimeSpan BlockWorkTime = TimeSpan.FromMilliseconds(1);

    private void StubFlashData(byte op, uint checksum, ReadOnlySpan<byte> data)
    {
        bool legacy = StubKind == StubKind.Legacy;
        bool defl = op == 0x11;
        if (data.Length < 16) { StubReply(op, [], legacy ? (byte)0xC0 : (byte)0xC8); return; }
        var payload = data[16..];
        if (W(data, 0) != payload.Length) { StubReply(op, [], 0xC0); return; }
        if (Checksum(payload) != (checksum & 0xFF)) { StubReply(op, [], 0xC1); return; }
        if (defl ? !_deflMode : !_flashMode) { StubReply(op, [], 0xC6); return; }
        if (legacy && _deferredError != 0)
        {
            var e = _deferredError;
            _deferredError = 0;
            StubReply(op, [], e);
            return;
        }
        // The stub acknowledges first and writes while the next block arrives; errors surface later.
        byte[] plain;
        byte error = 0;
        if (defl)
        {
            try { plain = _inflater!.Feed(payload); }
            catch (InvalidDataException) { plain = []; error = 0xC7; }
            if (plain.Length > _flashRemaining) { plain = plain.AsSpan(0, (int)Math.Max(0, _flashRemaining)).ToArray(); error = 0xC9; }
        }
        else
        {
            var n = (int)Math.Min(payload.Length, Math.Max(0, _flashRemaining));
            plain = payload[..n].ToArray();
        }
        StubReply(op, []);
        // The block is written after the reply; that takes time even where the flash model is instant (erasing and
        // programming 16 KiB take tens of ms on a chip), so a block sent before this reply arrives meets a busy stub.
        if (!legacy) _host.Sleep(BlockWorkTime);
        if (plain.Length > 0 && !StubWrite(plain)) error = 0xC4;
        _flashNext += (uint)plain.Length;
        _flashRemaining -= plain.Length;
        if (error != 0 && _deferredError == 0) _deferredError = error;
    }

    private bool StubWrite(byte[] plain)
    {
        uint addr = _flashNext;
        // Just-in-time erase of every sector the block touches (64 KiB at a time when aligned and large).
        long end = (long)addr + plain.Length;
        for (long s = addr & ~(uint)(SimFlash.SectorSize - 1); s < end; s += SimFlash.SectorSize)
        {
            if (_erasedSectors.Contains((uint)s)) continue;
            bool big = s % 0x10000 == 0 && s + 0x10000 <= _flashEnd;
            int len = big ? 0x10000 : SimFlash.SectorSize;
            if (StubKind == StubKind.New && _flash.Read((uint)s, len).AsSpan().IndexOfAnyExcept((byte)0xFF) < 0)
            {
                // new stub: already blank, skip the erase
            }
            else
            {
                if (!_flash.Erase((uint)s, len, out var c)) return false;
                if (c > TimeSpan.Zero) _host.Sleep(c);
            }
            for (long x = s; x < s + len; x += SimFlash.SectorSize) _erasedSectors.Add((uint)x);
        }
        var stored = _encryptedWrite && FlashEncryption ? Encrypt(addr, plain) : plain;
        if (!_flash.Program(addr, stored, out var cost)) return false;
        if (cost > TimeSpan.Zero) _host.Sleep(cost);
        return true;
    }

    private void StubFlashEnd(byte op, ReadOnlySpan<byte> data)
    {
        bool legacy = StubKind == StubKind.Legacy;
        if (data.Length != 4) { StubReply(op, [], 0xC0); return; }
        // One "in flash mode" flag for both: esptool ends a compressed write with FLASH_BEGIN(0, 0) + FLASH_DEFL_END.
        bool defl = _deflMode;
        if (!_flashMode && !_deflMode) { StubReply(op, [], 0xC6); return; }
        if (_deferredError != 0)
        {
            var e = _deferredError;
            _deferredError = 0;
            _flashMode = _deflMode = false;
            StubReply(op, [], e);
            return;
        }
        if (_flashRemaining > 0)
        {
            StubReply(op, [], legacy ? (byte)0xC8 : (byte)0xC0);
            return;
        }
        _flashMode = _deflMode = false;
        if (W(data, 0) == 0 && legacy)
        {
            // legacy stub: reply, flush, ~10 ms, software reset back into the ROM loader
            var pkt = new byte[10];
            pkt[0] = 1; pkt[1] = op; pkt[2] = 2;
            _host.SoftwareReboot();
            _host.Send(pkt);
            return;
        }
        StubReply(op, []);
    }

    private void StubReadFlash(byte op, ReadOnlySpan<byte> data)
    {
        bool legacy = StubKind == StubKind.Legacy;
        if (data.Length != 16) { StubReply(op, [], 0xC0); return; }
        uint offset = W(data, 0), length = W(data, 1), packet = W(data, 2);
        StubReply(op, []);
        if (packet > 0x1000 || packet == 0)
        {
            if (!legacy) _deferredError = 0xC0;
            return;
        }
        _bus.Spi.NoteRomFlashRead(byStub: true);
        using var md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
        uint sent = 0, acked = 0;
        while (acked < length)
        {
            // The legacy stub read its in-flight argument as one packet (a bug); esp-flasher-stub keeps two
            // packets unacknowledged (command_handler.c, s_read_flash: max_unacked_packets = 2).
            uint window = legacy ? packet : 2 * packet;
            if (sent < length && sent - acked < window)
            {
                var n = (int)Math.Min(packet, length - sent);
                var chunk = _flash.Read(offset + sent, n);
                md5.AppendData(chunk);
                _host.Send(chunk);
                sent += (uint)n;
                continue;
            }
            var ack = _host.ReadFrame();
            if (ack.Length == 4) acked = BinaryPrimitives.ReadUInt32LittleEndian(ack);
            if (acked > sent) acked = sent;
        }
        _host.Send(md5.GetHashAndReset());
    }
}
