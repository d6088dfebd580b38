using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Esp.Simulator;

/// <summary>
/// The flasher stubs' commands, legacy ("1") and esp-flasher-stub ("2"): replies carry one error byte, flash is
/// unlocked before it is erased, blocks are acknowledged first and written afterwards (an error then answers the next
/// command), erases happen just in time, and READ_FLASH streams packets with a window of acknowledgements.
/// </summary>
internal sealed class StubCommands(ChipProfile profile, VirtualChipOptions options, MemoryBus bus, SimFlash flash, IBootloaderHost host, DownloadState download)
    : CommandSet(profile, options, bus, flash, host, download)
{
    /// <summary>Least time the new stub spends on a data block after answering it.</summary>
    private static readonly TimeSpan BlockWorkTime = TimeSpan.FromMilliseconds(1);

    public StubKind Kind { get; set; } = StubKind.New;

    private bool Legacy => Kind == StubKind.Legacy;

    private void Reply(byte op, ReadOnlySpan<byte> data, byte error = 0, uint value = 0, int repeat = 1, int? sizeField = null)
    {
        var pkt = new byte[8 + data.Length + 2];
        pkt[0] = 1; pkt[1] = op;
        BinaryPrimitives.WriteUInt16LittleEndian(pkt.AsSpan(2), (ushort)(sizeField ?? data.Length + 2));
        BinaryPrimitives.WriteUInt32LittleEndian(pkt.AsSpan(4), value);
        data.CopyTo(pkt.AsSpan(8));
        pkt[8 + data.Length] = error;
        for (var i = 0; i < repeat; i++) Host.Send(pkt);
    }

    // ------------------------------------------------------------------ dispatch

    public void Handle(byte direction, byte op, int size, uint checksum, ReadOnlySpan<byte> data)
    {
        bool legacy = Legacy;
        if (direction != 0)
        {
            if (!legacy) Reply(op, [], 0xC3);
            return;
        }
        if (!legacy && data.Length != size) { Reply(op, [], 0xC0); return; }
        if (!legacy && Download.DeferredError != 0 && op != 0x08)
        {
            // New stub: an error from deferred work answers the next command, which is not executed.
            Reply(op, [], Download.TakeDeferredError());
            return;
        }
        switch (op)
        {
            case 0x08:
                if (data.Length != 36) { Reply(op, [], 0xC0); return; }
                Reply(op, [], repeat: 8);
                break;
            case 0x0A:
                if (data.Length != 4) { Reply(op, [], 0xC0); return; }
                Reply(op, [], value: Bus.ReadWord(W(data, 0)));
                break;
            case 0x09:
                if (data.Length == 0 || data.Length % 16 != 0) { Reply(op, [], legacy ? (byte)0xC0 : (byte)0xC8); return; }
                WriteRegs(data);
                Reply(op, []);
                break;
            case 0x05:
                if (data.Length != 16) { Reply(op, [], 0xC0); return; }
                MemBegin(data);
                Reply(op, []);
                break;
            case 0x07:
            {
                if (data.Length < 16) { Reply(op, [], legacy ? (byte)0xC0 : (byte)0xC8); return; }
                var payload = data[16..];
                if (W(data, 0) != payload.Length || payload.Length % 4 != 0) { Reply(op, [], 0xC0); return; }
                if (!Download.MemMode) { Reply(op, [], 0xC6); return; }
                long written = Download.MemData?.Length ?? 0;
                if (written + payload.Length > Download.MemSize) { Reply(op, [], 0xC9); return; }
                MemData(W(data, 1), payload);
                Reply(op, []);
                break;
            }
            case 0x06:
            {
                if (data.Length != 8) { Reply(op, [], 0xC0); return; }
                if (Download.MemMode && (Download.MemData?.Length ?? 0) < Download.MemSize && legacy) { Reply(op, [], 0xC8); return; }
                uint flag = W(data, 0), entry = W(data, 1);
                FinishMemSegment();
                if (flag == 0 && FindStub(entry) is null) Host.LeaveLoader(ChipMode.RunningUserCode, entry);
                Reply(op, []);
                if (flag == 0 && FindStub(entry) is { } kind) Host.EnterStub(kind, entry);
                break;
            }
            case 0x02:
            case 0x10:
                FlashBegin(op, data);
                break;
            case 0x03:
            case 0x11:
                FlashData(op, checksum, data);
                break;
            case 0x04:
            case 0x12:
                FlashEnd(op, data);
                break;
            case 0x0B:
                if (data.Length != 24) { Reply(op, [], 0xC0); return; }
                Reply(op, []);
                break;
            case 0x0D:
                if (data.Length != 4) { Reply(op, [], 0xC0); return; }
                Reply(op, []);
                break;
            case 0x0F:
                if (data.Length != 8) { Reply(op, [], 0xC0); return; }
                Reply(op, []);
                Host.SetChipBaud((int)W(data, 0));
                break;
            case 0x13:
            {
                if (data.Length != 16) { Reply(op, [], 0xC0); return; }
                Bus.Spi.NoteRomFlashRead(byStub: true);
                var md5 = MD5.HashData(Flash.Read(W(data, 0), (int)W(data, 1)));
                SpendHashTime(W(data, 1), stub: true);
                Reply(op, md5);
                break;
            }
            case 0x14:
                if (data.Length != 0) { Reply(op, [], 0xC0); return; }
                if (Profile.SecurityInfoLength == 0) { Reply(op, [], 0xFF); return; }
                var info = SecurityInfo();
                Reply(op, info, sizeField: legacy ? info.Length : info.Length + 2);
                break;
            case 0xD0: // ERASE_FLASH
                if (data.Length != 0) { Reply(op, [], 0xC0); return; }
                if (!Flash.Unlock()) { Reply(op, [], 0xC5); return; }
                if (!Flash.Erase(0, Flash.Size, out var chipCost)) { Reply(op, [], 0xC4); return; }
                if (chipCost > TimeSpan.Zero) Host.Sleep(chipCost);
                Reply(op, []);
                break;
            case 0xD1: // ERASE_REGION
            {
                if (data.Length != 8) { Reply(op, [], 0xC0); return; }
                uint addr = W(data, 0), len = W(data, 1);
                if (addr % SimFlash.SectorSize != 0) { Reply(op, [], legacy ? (byte)0x32 : (byte)0xC0); return; }
                if (len % SimFlash.SectorSize != 0) { Reply(op, [], legacy ? (byte)0x33 : (byte)0xC0); return; }
                if (!Flash.Unlock()) { Reply(op, [], legacy ? (byte)0x34 : (byte)0xC5); return; }
                for (long a = addr; a < (long)addr + len; a += SimFlash.SectorSize)
                {
                    if (!Flash.Erase((uint)a, SimFlash.SectorSize, out var c)) { Reply(op, [], legacy ? (byte)0x35 : (byte)0xC4); return; }
                    if (c > TimeSpan.Zero) Host.Sleep(c);
                }
                Reply(op, []);
                break;
            }
            case 0xD2:
                ReadFlash(op, data);
                break;
            case 0xD3: // RUN_USER_CODE: no reply
                Host.LeaveLoader(ChipMode.BootedApp, null);
                break;
            default:
                Reply(op, [], legacy ? (byte)0xFF : (byte)0xC3);
                break;
        }
    }

    // ------------------------------------------------------------------ flash download

    private void FlashBegin(byte op, ReadOnlySpan<byte> data)
    {
        if (data.Length != 16 && data.Length != 20) { Reply(op, [], 0xC0); return; }
        uint eraseSize = W(data, 0), blockSize = W(data, 2), offset = W(data, 3);
        if (blockSize > 0x4000 && Legacy) { Reply(op, [], 0xC2); return; }
        if (!Flash.Unlock()) { Reply(op, [], 0xC5); return; }
        var d = Download;
        d.EncryptedWrite = data.Length == 20 && W(data, 4) != 0;
        d.FlashOffset = d.FlashNext = offset;
        d.FlashBlockSize = blockSize;
        d.FlashRemaining = eraseSize;
        d.FlashEnd = (long)offset + eraseSize;
        d.ErasedSectors.Clear();
        d.DeferredError = 0;
        d.StartFlashMode(op);
        Reply(op, []);
    }

    private void FlashData(byte op, uint checksum, ReadOnlySpan<byte> data)
    {
        bool legacy = Legacy;
        bool defl = op == 0x11;
        var d = Download;
        if (data.Length < 16) { Reply(op, [], legacy ? (byte)0xC0 : (byte)0xC8); return; }
        var payload = data[16..];
        if (W(data, 0) != payload.Length) { Reply(op, [], 0xC0); return; }
        if (Checksum(payload) != (checksum & 0xFF)) { Reply(op, [], 0xC1); return; }
        if (defl ? !d.DeflMode : !d.FlashMode) { Reply(op, [], 0xC6); return; }
        if (legacy && d.DeferredError != 0)
        {
            Reply(op, [], d.TakeDeferredError());
            return;
        }
        // The stub acknowledges first and writes while the next block arrives; errors surface later.
        byte[] plain;
        byte error = 0;
        if (defl)
        {
            try { plain = d.Inflater!.Feed(payload); }
            catch (InvalidDataException) { plain = []; error = 0xC7; }
            if (plain.Length > d.FlashRemaining) { plain = plain.AsSpan(0, (int)Math.Max(0, d.FlashRemaining)).ToArray(); error = 0xC9; }
        }
        else
        {
            var n = (int)Math.Min(payload.Length, Math.Max(0, d.FlashRemaining));
            plain = payload[..n].ToArray();
        }
        Reply(op, []);
        // The block is written after the reply; that takes time even where the flash model is instant (erasing and
        // programming 16 KiB take tens of ms on a chip), so a block sent before this reply arrives meets a busy stub.
        if (!legacy) Host.Sleep(BlockWorkTime);
        if (plain.Length > 0 && !Write(plain)) error = 0xC4;
        d.FlashNext += (uint)plain.Length;
        d.FlashRemaining -= plain.Length;
        if (error != 0 && d.DeferredError == 0) d.DeferredError = error;
    }

    private bool Write(byte[] plain)
    {
        uint addr = Download.FlashNext;
        // Just-in-time erase of every sector the block touches (64 KiB at a time when aligned and large).
        long end = (long)addr + plain.Length;
        for (long s = addr & ~(uint)(SimFlash.SectorSize - 1); s < end; s += SimFlash.SectorSize)
        {
            if (Download.ErasedSectors.Contains((uint)s)) continue;
            bool big = s % 0x10000 == 0 && s + 0x10000 <= Download.FlashEnd;
            int len = big ? 0x10000 : SimFlash.SectorSize;
            if (Kind == StubKind.New && Flash.Read((uint)s, len).AsSpan().IndexOfAnyExcept((byte)0xFF) < 0)
            {
                // new stub: already blank, skip the erase
            }
            else
            {
                if (!Flash.Erase((uint)s, len, out var c)) return false;
                if (c > TimeSpan.Zero) Host.Sleep(c);
            }
            for (long x = s; x < s + len; x += SimFlash.SectorSize) Download.ErasedSectors.Add((uint)x);
        }
        var stored = Download.EncryptedWrite && FlashEncryption ? Encrypt(addr, plain) : plain;
        if (!Flash.Program(addr, stored, out var cost)) return false;
        if (cost > TimeSpan.Zero) Host.Sleep(cost);
        return true;
    }

    private void FlashEnd(byte op, ReadOnlySpan<byte> data)
    {
        bool legacy = Legacy;
        var d = Download;
        if (data.Length != 4) { Reply(op, [], 0xC0); return; }
        // One "in flash mode" flag for both: esptool ends a compressed write with FLASH_BEGIN(0, 0) + FLASH_DEFL_END.
        if (!d.FlashMode && !d.DeflMode) { Reply(op, [], 0xC6); return; }
        if (d.DeferredError != 0)
        {
            var e = d.TakeDeferredError();
            d.FlashMode = d.DeflMode = false;
            Reply(op, [], e);
            return;
        }
        if (d.FlashRemaining > 0)
        {
            Reply(op, [], legacy ? (byte)0xC8 : (byte)0xC0);
            return;
        }
        d.FlashMode = d.DeflMode = false;
        if (W(data, 0) == 0 && legacy)
        {
            // legacy stub: reply, flush, ~10 ms, software reset back into the ROM loader
            var pkt = new byte[10];
            pkt[0] = 1; pkt[1] = op; pkt[2] = 2;
            Host.SoftwareReboot();
            Host.Send(pkt);
            return;
        }
        Reply(op, []);
    }

    // ------------------------------------------------------------------ READ_FLASH

    private void ReadFlash(byte op, ReadOnlySpan<byte> data)
    {
        bool legacy = Legacy;
        if (data.Length != 16) { Reply(op, [], 0xC0); return; }
        uint offset = W(data, 0), length = W(data, 1), packet = W(data, 2);
        Reply(op, []);
        if (packet > 0x1000 || packet == 0)
        {
            if (!legacy) Download.DeferredError = 0xC0;
            return;
        }
        Bus.Spi.NoteRomFlashRead(byStub: true);
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
                var chunk = Flash.Read(offset + sent, n);
                md5.AppendData(chunk);
                Host.Send(chunk);
                sent += (uint)n;
                continue;
            }
            var ack = Host.ReadFrame();
            if (ack.Length == 4) acked = BinaryPrimitives.ReadUInt32LittleEndian(ack);
            if (acked > sent) acked = sent;
        }
        Host.Send(md5.GetHashAndReset());
    }
}
