using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Esp.Simulator;

/// <summary>
/// The mask-ROM loader's commands: replies carry the ROM's stale "last value" and its status bytes, unknown or
/// forbidden commands echo the previous reply, flash is 2 MiB until SPI_SET_PARAMS and nothing is unlocked.
/// </summary>
internal sealed class RomCommands(ChipProfile profile, VirtualChipOptions options, MemoryBus bus, SimFlash flash, IBootloaderHost host, DownloadState download)
    : CommandSet(profile, options, bus, flash, host, download)
{
    private static readonly byte[] SdmAllowed = [0x08, 0x0D, 0x0B, 0x0F, 0x02, 0x03, 0x04, 0x14];

    // ROM "last value" register and last reply shape (for the invalid-command echo).
    private uint _lastValue;
    private byte _lastReplyOp;
    private int _lastReplyCount = 1;
    private int _romFlashSize;

    /// <summary>Back to the state after boot.</summary>
    public void ResetState()
    {
        _lastValue = 0; _lastReplyOp = 0; _lastReplyCount = 1;
        _romFlashSize = Profile.IsEsp8266 ? Flash.Size : 2 * 1024 * 1024;
    }

    // ------------------------------------------------------------------ replies

    private byte[] BuildReply(byte op, ReadOnlySpan<byte> data, byte status = 0, byte error = 0)
    {
        int sb = Profile.RomStatusBytes;
        var pkt = new byte[8 + data.Length + sb];
        pkt[0] = 1; pkt[1] = op;
        BinaryPrimitives.WriteUInt16LittleEndian(pkt.AsSpan(2), (ushort)(data.Length + sb));
        BinaryPrimitives.WriteUInt32LittleEndian(pkt.AsSpan(4), _lastValue);
        data.CopyTo(pkt.AsSpan(8));
        pkt[8 + data.Length] = status;
        pkt[9 + data.Length] = error;
        return pkt;
    }

    private void Reply(byte op, ReadOnlySpan<byte> data, byte status = 0, byte error = 0, int repeat = 1)
    {
        var pkt = BuildReply(op, data, status, error);
        for (var i = 0; i < repeat; i++) Host.Send(pkt);
        _lastReplyOp = op;
        _lastReplyCount = repeat;
    }

    private void Fail(byte op, byte error) => Reply(op, [], 1, error);

    /// <summary>
    /// Unknown or forbidden command: the ROM re-sends its previous reply (op and count as before, stale value)
    /// with status 01 05 — as the ESP32 traces show (8 copies after SYNC, one after WRITE_REG).
    /// </summary>
    private void Invalid()
    {
        int sb = Profile.RomStatusBytes;
        var pkt = new byte[8 + sb];
        pkt[0] = 1; pkt[1] = _lastReplyOp;
        BinaryPrimitives.WriteUInt16LittleEndian(pkt.AsSpan(2), (ushort)sb);
        BinaryPrimitives.WriteUInt32LittleEndian(pkt.AsSpan(4), _lastValue);
        pkt[8] = 1; pkt[9] = 5;
        for (var i = 0; i < Math.Max(1, _lastReplyCount); i++) Host.Send(pkt);
    }

    // ------------------------------------------------------------------ dispatch

    public void Handle(byte op, int size, uint checksum, ReadOnlySpan<byte> data)
    {
        if (!Profile.RomKnows(op) || (SecureDownload && Array.IndexOf(SdmAllowed, op) < 0)) { Invalid(); return; }
        if (data.Length != size) { Fail(op, 0x05); return; }
        switch (op)
        {
            case 0x08: // SYNC
                if (data.Length < 4) return;
                _lastValue = W(data, 0);
                Reply(op, [], repeat: 8);
                break;
            case 0x0A: // READ_REG
                if (data.Length != 4) { Fail(op, 0x05); return; }
                _lastValue = Bus.ReadWord(W(data, 0));
                Reply(op, []);
                break;
            case 0x09: // WRITE_REG
                if (data.Length == 0 || data.Length % 16 != 0) { Fail(op, 0x05); return; }
                WriteRegs(data);
                Reply(op, []);
                break;
            case 0x05: // MEM_BEGIN
                if (data.Length != 16) { Fail(op, 0x05); return; }
                MemBegin(data);
                Reply(op, []);
                break;
            case 0x07: // MEM_DATA
            {
                if (data.Length < 16) { Fail(op, 0x05); return; }
                var payload = data[16..];
                if (W(data, 0) != payload.Length) { Fail(op, 0x05); return; }
                if (Checksum(payload) != (checksum & 0xFF)) { Fail(op, 0x07); return; }
                if (!Download.MemMode) { Fail(op, 0x06); return; }
                MemData(W(data, 1), payload);
                Reply(op, []);
                break;
            }
            case 0x06: // MEM_END
            {
                if (data.Length != 8) { Fail(op, 0x05); return; }
                uint flag = W(data, 0), entry = W(data, 1);
                FinishMemSegment();
                if (flag == 0 && FindStub(entry) is null) Host.LeaveLoader(ChipMode.RunningUserCode, entry);
                Reply(op, []);
                if (flag == 0 && FindStub(entry) is { } kind) Host.EnterStub(kind, entry);
                break;
            }
            case 0x02:
            case 0x10: // FLASH_BEGIN / FLASH_DEFL_BEGIN
                FlashBegin(op, data);
                break;
            case 0x03:
            case 0x11:
                FlashData(op, checksum, data);
                break;
            case 0x04:
            case 0x12: // FLASH_END / FLASH_DEFL_END
            {
                if (data.Length < 4) { Fail(op, 0x05); return; }
                Download.FlashMode = Download.DeflMode = false;
                var reply = BuildReply(op, []);
                if (W(data, 0) == 0) Host.SoftwareReboot();
                else Host.LeaveLoader(ChipMode.BootedApp, null);
                Host.Send(reply);
                break;
            }
            case 0x0B: // SPI_SET_PARAMS
                if (data.Length != 24) { Fail(op, 0x05); return; }
                _romFlashSize = (int)Math.Min(W(data, 1), int.MaxValue);
                Reply(op, []);
                break;
            case 0x0D: // SPI_ATTACH (ROM takes 8 bytes; 4 tolerated)
                if (data.Length != 8 && data.Length != 4) { Fail(op, 0x05); return; }
                Reply(op, []);
                break;
            case 0x0E: // READ_FLASH_SLOW
            {
                if (data.Length < 8) { Fail(op, 0x05); return; }
                uint off = W(data, 0), len = W(data, 1);
                if (len > 64) { Fail(op, 0x0A); return; }
                if (off + len > (uint)_romFlashSize) { Fail(op, 0x09); return; }
                Bus.Spi.NoteRomFlashRead();
                Reply(op, Flash.Read(off, 64));
                break;
            }
            case 0x0F: // CHANGE_BAUDRATE
            {
                if (data.Length != 8) { Fail(op, 0x05); return; }
                Reply(op, []);
                Host.SendRaw([0xC0, 0xC0]); // the ROM emits an empty frame after the reply (traces)
                Host.SetChipBaud((int)W(data, 0));
                break;
            }
            case 0x13: // SPI_FLASH_MD5
            {
                if (data.Length != 16) { Fail(op, 0x05); return; }
                uint addr = W(data, 0), len = W(data, 1);
                if ((long)addr + len > _romFlashSize) { Fail(op, 0x09); return; }
                Bus.Spi.NoteRomFlashRead();
                var md5 = MD5.HashData(Flash.Read(addr, (int)len));
                SpendHashTime(len, stub: false);
                Reply(op, System.Text.Encoding.ASCII.GetBytes(Convert.ToHexStringLower(md5)));
                break;
            }
            case 0x14:
                Reply(op, SecurityInfo());
                break;
            default:
                Invalid();
                break;
        }
    }

    // ------------------------------------------------------------------ flash download

    /// <summary>ESP8266 ROM erase bug: given n sectors it erases n + min(16 - start % 16, n) (esptool compensates).</summary>
    private static int Esp8266EraseSectors(uint offset, uint eraseSize)
    {
        int n = (int)((eraseSize + SimFlash.SectorSize - 1) / SimFlash.SectorSize);
        int head = 16 - (int)((offset / SimFlash.SectorSize) % 16);
        return n + Math.Min(head, n);
    }

    private void FlashBegin(byte op, ReadOnlySpan<byte> data)
    {
        bool legacyRom = Profile.IsEsp8266 || Profile.IsEsp32;
        if (data.Length != 16 && (legacyRom || data.Length != 20)) { Fail(op, 0x05); return; }
        if (op == 0x10 && Profile.IsEsp8266) { Invalid(); return; }
        uint eraseSize = W(data, 0), blockSize = W(data, 2), offset = W(data, 3);
        Download.EncryptedWrite = data.Length == 20 && W(data, 4) != 0;
        long eraseBytes = Profile.IsEsp8266 ? (long)Esp8266EraseSectors(offset, eraseSize) * SimFlash.SectorSize
            : (eraseSize + SimFlash.SectorSize - 1) / SimFlash.SectorSize * SimFlash.SectorSize;
        if (eraseSize == 0) eraseBytes = 0;
        uint start = offset & ~(uint)(SimFlash.SectorSize - 1);
        if (start + eraseBytes > _romFlashSize) { Fail(op, 0x06); return; }
        // The ROM does not unlock the flash: protected sectors are silently skipped by the chip; the
        // write-back verification of FLASH_DATA then reports 0x08.
        for (long a = start; a < start + eraseBytes; a += SimFlash.SectorSize)
        {
            Flash.Erase((uint)a, SimFlash.SectorSize, out var cost);
            if (cost > TimeSpan.Zero) Host.Sleep(cost);
        }
        Download.FlashOffset = offset; Download.FlashNext = offset; Download.FlashBlockSize = blockSize;
        Download.FlashRemaining = eraseSize;
        Download.StartFlashMode(op);
        Reply(op, []);
    }

    private void FlashData(byte op, uint checksum, ReadOnlySpan<byte> data)
    {
        if (data.Length < 16) { Fail(op, 0x05); return; }
        var payload = data[16..];
        if (W(data, 0) != payload.Length) { Fail(op, 0x05); return; }
        if (Checksum(payload) != (checksum & 0xFF)) { Fail(op, 0x07); return; }
        bool defl = op == 0x11;
        if (defl ? !Download.DeflMode : !Download.FlashMode) { Fail(op, 0x06); return; }
        byte[] plain;
        if (defl)
        {
            try { plain = Download.Inflater!.Feed(payload); }
            catch (InvalidDataException) { Fail(op, 0x0B); return; }
        }
        else
        {
            plain = payload.ToArray();
            Download.FlashNext = Download.FlashOffset + W(data, 1) * Download.FlashBlockSize;
        }
        if (plain.Length > 0 && !Write(Download.FlashNext, plain)) { Fail(op, 0x08); return; }
        Download.FlashNext += (uint)plain.Length;
        if (defl && Profile.IsEsp32 && Download.Inflater!.TotalOut >= Download.FlashRemaining && Download.FlashRemaining > 0)
        {
            // ESP32 ROM quirk (traces README): at the end of the stream the whole 32 KiB inflate window is
            // written out; bytes past the data are zeros and get programmed into the (unerased) flash.
            var inflater = Download.Inflater;
            long window = (inflater.TotalOut + 0x7FFF) / 0x8000 * 0x8000;
            var pad = (int)(window - inflater.TotalOut);
            if (pad > 0) Flash.Program(Download.FlashNext, new byte[pad], out _);
            Download.FlashRemaining = 0;
        }
        Reply(op, []);
    }

    /// <summary>Programs a block and reads it back, as the ROM checks its writes.</summary>
    private bool Write(uint address, byte[] plain)
    {
        if (address + (long)plain.Length > _romFlashSize) return false;
        var stored = Download.EncryptedWrite && FlashEncryption ? Encrypt(address, plain) : plain;
        Flash.Program(address, stored, out var cost);
        if (cost > TimeSpan.Zero) Host.Sleep(cost);
        Bus.Spi.NoteRomFlashRead();
        return Flash.Read(address, stored.Length).AsSpan().SequenceEqual(stored);
    }
}
