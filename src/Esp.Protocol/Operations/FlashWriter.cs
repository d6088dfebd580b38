using System.Diagnostics;
using System.IO.Compression;
using Esp.Protocol.Commands;
using Esp.Protocol.Errors;
using Esp.Protocol.Loader;

namespace Esp.Protocol.Operations;

/// <summary>How to write.</summary>
public sealed record FlashWriteOptions
{
    /// <summary>null = compress when it makes the transfer smaller and the loader supports it.</summary>
    public bool? Compress { get; init; }
    /// <summary>Check the chip's MD5 of the written range (on by default; a write is only reported after it).</summary>
    public bool Verify { get; init; } = true;
    /// <summary>Keep the bytes before an address that is not sector aligned (they would be erased otherwise).</summary>
    public bool PreserveSectorHead { get; init; } = true;
}

/// <summary>What a write did.</summary>
public sealed record FlashWriteResult(
    uint Address, int Length, long WireBytes, bool Compressed, bool Verified, string Md5, TimeSpan Elapsed)
{
    /// <summary>Payload bytes per second.</summary>
    public double Rate => Length / Math.Max(1e-9, Elapsed.TotalSeconds);
}

/// <summary>Writes data to flash through the ROM loader or the stub, then checks it with the chip's MD5.</summary>
public static class FlashWriter
{
    private const int WriteBlockAttempts = 3;

    public static async Task<FlashWriteResult> WriteAsync(
        EspSession session, uint address, ReadOnlyMemory<byte> data, FlashWriteOptions? options = null,
        IProgress<EspProgress>? progress = null, CancellationToken ct = default)
    {
        options ??= new FlashWriteOptions();
        if (data.Length == 0)
            throw new EspException(EspErrorCode.FileEmpty, "There is nothing to write (0 bytes).");
        if (session.Security?.FlashEncryptionEnabled == true)
            throw new EspException(EspErrorCode.FlashEncrypted,
                "Flash encryption is enabled on this chip; a plain write would store unencrypted data the chip cannot run.");
        await session.EnsureFlashAttachedAsync(ct).ConfigureAwait(false);
        if (options.Verify && !FlashMd5.IsAvailable(session))
            throw new EspException(EspErrorCode.UnsupportedCommand,
                $"The {session.Chip.Name} ROM loader cannot compute an MD5, so the write could not be checked.",
                "Run with a flasher stub (--stub-file / EspStubFile), or pass --no-verify to write unchecked.");
        FlashRange.Check(session, address, (uint)data.Length);

        var sw = Stopwatch.StartNew();
        long wireBefore = session.Link.BytesWritten;

        // Whole sectors are erased; keep what precedes an unaligned start by writing it back.
        uint sector = ProtocolConstants.FlashSectorSize;
        uint start = address;
        byte[] payload;
        int headLength = (int)(address % sector);
        if (headLength > 0 && options.PreserveSectorHead && FlashReader.IsAvailable(session))
        {
            start = address - (uint)headLength;
            var head = await FlashReader.ReadAsync(session, start, headLength, null, ct).ConfigureAwait(false);
            payload = new byte[headLength + data.Length];
            head.CopyTo(payload, 0);
            data.Span.CopyTo(payload.AsSpan(headLength));
        }
        else if (headLength > 0 && !session.IsStub)
        {
            // The ROM needs a sector-aligned start: pad with erased bytes.
            start = address - (uint)headLength;
            payload = new byte[headLength + data.Length];
            payload.AsSpan(0, headLength).Fill(0xFF);
            data.Span.CopyTo(payload.AsSpan(headLength));
        }
        else
        {
            payload = data.ToArray();
        }
        // Pad to a whole word with erased bytes, as the loaders expect.
        if (payload.Length % 4 != 0)
        {
            int padded = (payload.Length + 3) & ~3;
            var p = new byte[padded];
            payload.CopyTo(p, 0);
            p.AsSpan(payload.Length).Fill(0xFF);
            payload = p;
        }

        byte[]? compressed = null;
        bool canCompress = session.IsStub || RomCanInflate(session);
        if (options.Compress != false && canCompress)
        {
            compressed = Deflate(payload);
            if (options.Compress is null && compressed.Length >= payload.Length) compressed = null;
        }
        else if (options.Compress == true)
        {
            throw new EspException(EspErrorCode.UnsupportedCommand,
                $"The {session.Chip.Name} ROM loader cannot take compressed data.", "Write uncompressed, or use a stub.");
        }

        var tracker = new WriteTracker();
        try
        {
            if (compressed is not null)
                await WriteCompressedAsync(session, start, payload.Length, compressed, progress, headLength, tracker, ct).ConfigureAwait(false);
            else
                await WritePlainAsync(session, start, payload, progress, headLength, tracker, ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (tracker.Begun && IsInterruption(ex, ct))
        {
            long acked = compressed is null ? tracker.AckedPayload : InflatedLength(compressed, tracker.AckedCompressed, payload.Length);
            throw Incomplete(ex, address, data.Length, start, acked, verified: false);
        }

        string hostMd5 = FlashMd5.Of(payload);
        bool verified = false;
        if (options.Verify)
        {
            progress?.Report(new EspProgress("verify", 0, payload.Length));
            string chipMd5;
            try
            {
                chipMd5 = await FlashMd5.ComputeAsync(session, start, (uint)payload.Length, ct).ConfigureAwait(false);
            }
            catch (Exception ex) when (IsInterruption(ex, ct))
            {
                throw Incomplete(ex, address, data.Length, start, payload.Length, verified: false);
            }
            if (chipMd5 != hostMd5)
                throw new EspException(EspErrorCode.WriteVerifyFailed,
                    $"The flash at 0x{start:X8}..0x{start + (uint)payload.Length:X8} does not match what was sent (chip MD5 {chipMd5}, expected {hostMd5}).");
            verified = true;
            progress?.Report(new EspProgress("verify", payload.Length, payload.Length));
        }
        return new FlashWriteResult(address, data.Length, session.Link.BytesWritten - wireBefore, compressed is not null, verified, hostMd5, sw.Elapsed);
    }

    /// <summary>How far a write got: set once FLASH_BEGIN is sent, advanced as the chip acknowledges blocks.</summary>
    private sealed class WriteTracker
    {
        public bool Begun;
        public long AckedPayload;
        public int AckedCompressed;
    }

    /// <summary>Failures after which the flash is in an unknown, partly written state (not bad arguments).</summary>
    private static bool IsInterruption(Exception ex, CancellationToken ct) =>
        ex is OperationCanceledException && ct.IsCancellationRequested
        || ex is EspException { Code: not (EspErrorCode.FlashWriteProtected or EspErrorCode.UnsupportedCommand or EspErrorCode.FlashEncrypted) } and not EspWriteIncompleteException;

    /// <summary>Bytes the first <paramref name="compressedBytes"/> of a zlib stream expand to (what the chip may have written).</summary>
    private static long InflatedLength(byte[] compressed, int compressedBytes, int max)
    {
        if (compressedBytes <= 0) return 0;
        long total = 0;
        try
        {
            using var z = new ZLibStream(new MemoryStream(compressed, 0, Math.Min(compressedBytes, compressed.Length)), CompressionMode.Decompress);
            var buffer = new byte[16384];
            int n;
            while ((n = z.Read(buffer)) > 0) total += n;
        }
        catch (InvalidDataException)
        {
            // A truncated stream ends early; what came out before is what counts.
        }
        return Math.Min(total, max);
    }

    /// <summary>
    /// The report for a write that stopped: of the requested range [address, address+length), the part the chip
    /// acknowledged (payload bytes [0, acked) from <paramref name="start"/>) and the part not written.
    /// </summary>
    private static EspWriteIncompleteException Incomplete(Exception ex, uint address, int length, uint start, long acked, bool verified)
    {
        ulong end = address + (ulong)length;
        ulong ackEnd = Math.Clamp(start + (ulong)acked, address, end);
        var done = new FlashSpan(address, (long)(ackEnd - address));
        var rest = new FlashSpan((uint)ackEnd, (long)(end - ackEnd));
        var code = ex is EspException e ? e.Code : EspErrorCode.Cancelled;
        string cause = ex is EspException ? ex.Message : "The write was cancelled";
        return new EspWriteIncompleteException(code, cause,
            verified ? [done] : [], verified ? [] : [done], [rest], inner: ex);
    }

    /// <summary>The ESP32 ROM writes its whole 32 KiB inflate buffer out (see traces README), so only stubs and later ROMs inflate.</summary>
    private static bool RomCanInflate(EspSession session) =>
        (session.Chip.RomFeatures & Chips.RomFeatures.Compressed) != 0 && session.Chip != Chips.ChipDatabase.Esp32;

    public static byte[] Deflate(ReadOnlySpan<byte> data)
    {
        using var ms = new MemoryStream(data.Length / 2 + 64);
        using (var z = new ZLibStream(ms, CompressionLevel.SmallestSize, leaveOpen: true))
            z.Write(data);
        return ms.ToArray();
    }

    private static uint[] BeginWords(EspSession session, uint size, uint blocks, uint blockSize, uint offset)
    {
        bool fifth = session.IsStub || (session.Chip.RomFeatures & Chips.RomFeatures.EncryptedFlag) != 0;
        return fifth ? [size, blocks, blockSize, offset, 0] : [size, blocks, blockSize, offset];
    }

    private static async Task WritePlainAsync(EspSession session, uint offset, byte[] payload, IProgress<EspProgress>? progress, int skip, WriteTracker tracker, CancellationToken ct)
    {
        int blockSize = session.FlashBlockSize;
        uint blocks = (uint)((payload.Length + blockSize - 1) / blockSize);
        uint eraseSize = session.IsStub || !session.Chip.IsEsp8266 ? (uint)payload.Length : Esp8266EraseSize(offset, (uint)payload.Length);
        var beginTimeout = session.IsStub ? session.Timeouts.Command : session.Timeouts.Scaled(session.Timeouts.EraseWritePerMegabyte, payload.Length);
        progress?.Report(new EspProgress("write", 0, payload.Length - skip, session.IsStub ? null : "erasing"));
        tracker.Begun = true;
        await session.Commands.ExecuteAsync(Opcode.FlashBegin, Request.Words(BeginWords(session, eraseSize, blocks, (uint)blockSize, offset)),
            timeout: beginTimeout, cancellationToken: ct).ConfigureAwait(false);

        var block = new byte[blockSize];
        var blockTimeout = session.Timeouts.Scaled(session.Timeouts.EraseWritePerMegabyte, blockSize);
        for (uint seq = 0; seq < blocks; seq++)
        {
            int at = (int)seq * blockSize;
            int n = Math.Min(blockSize, payload.Length - at);
            payload.AsSpan(at, n).CopyTo(block);
            block.AsSpan(n).Fill(0xFF); // the last block goes out padded with erased bytes
            await SendBlockAsync(session, Request.BuildData(Opcode.FlashData, block, seq), blockTimeout, ct).ConfigureAwait(false);
            tracker.AckedPayload = at + n;
            progress?.Report(new EspProgress("write", Math.Max(0, at + n - skip), payload.Length - skip));
        }
        if (session.IsStub)
            await session.Commands.ExecuteAsync(Opcode.FlashEnd, Request.Words(1), cancellationToken: ct).ConfigureAwait(false);
    }

    private static async Task WriteCompressedAsync(EspSession session, uint offset, int size, byte[] compressed, IProgress<EspProgress>? progress, int skip, WriteTracker tracker, CancellationToken ct)
    {
        int blockSize = session.FlashBlockSize;
        uint blocks = (uint)((compressed.Length + blockSize - 1) / blockSize);
        uint word0 = session.IsStub ? (uint)size : (uint)((size + 0x3FF) / 0x400 * 0x400);
        var beginTimeout = session.IsStub ? session.Timeouts.Command : session.Timeouts.Scaled(session.Timeouts.EraseWritePerMegabyte, size);
        progress?.Report(new EspProgress("write", 0, size - skip, session.IsStub ? null : "erasing"));
        tracker.Begun = true;
        await session.Commands.ExecuteAsync(Opcode.FlashDeflBegin, Request.Words(BeginWords(session, word0, blocks, (uint)blockSize, offset)),
            timeout: beginTimeout, cancellationToken: ct).ConfigureAwait(false);

        double ratio = (double)size / compressed.Length;
        for (uint seq = 0; seq < blocks; seq++)
        {
            int at = (int)seq * blockSize;
            int n = Math.Min(blockSize, compressed.Length - at);
            // A compressed block may expand to much more flash work than its size suggests.
            var timeout = session.Timeouts.Scaled(session.Timeouts.EraseWritePerMegabyte, (long)(n * ratio) + 65536);
            // A ROM inflates blocks in order and writes wherever its output has got to: a block sent again after a
            // timeout (when the chip had in fact taken it) would run past the erased region into the next sector.
            // Only explicit rejections are retried there; a timeout fails the write (a resume starts afresh).
            await SendBlockAsync(session, Request.BuildData(Opcode.FlashDeflData, compressed.AsSpan(at, n), seq), timeout, ct,
                retryTimeouts: session.IsStub).ConfigureAwait(false);
            tracker.AckedCompressed = at + n;
            long done = Math.Min(size, (long)((at + n) * ratio));
            progress?.Report(new EspProgress("write", Math.Max(0, done - skip), size - skip));
        }
        if (session.IsStub)
            await session.Commands.ExecuteAsync(Opcode.FlashDeflEnd, Request.Words(1),
                timeout: session.Timeouts.Scaled(session.Timeouts.EraseWritePerMegabyte, blockSize * 2), cancellationToken: ct).ConfigureAwait(false);
    }

    /// <summary>Sends one *_DATA block, retrying on timeouts and damaged-data answers as esptool does.</summary>
    private static async Task SendBlockAsync(EspSession session, byte[] packet, TimeSpan timeout, CancellationToken ct, bool retryTimeouts = true)
    {
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                await session.Commands.ExecutePacketAsync(packet, timeout, cancellationToken: ct).ConfigureAwait(false);
                return;
            }
            catch (EspException ex) when (attempt < WriteBlockAttempts && IsTransient(ex) && (retryTimeouts || ex.Code != EspErrorCode.Timeout))
            {
                await session.Link.DrainAsync(TimeSpan.FromMilliseconds(50), ct).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Answers after which the block was not written and can be sent again: timeouts, checksum errors (ROM 01 07,
    /// stub C1) and packets whose length does not match their header (ROM 01 05 under the data opcode, stub C0: a byte
    /// lost or added on the way). Loaders check these before writing anything.
    /// </summary>
    internal static bool IsTransient(EspException ex) => ex.Code is EspErrorCode.Timeout
        || ex is EspCommandException { Code: EspErrorCode.RomError, Status: 1, Error: 0x07 or 0x05 }
        || ex is EspCommandException { Code: EspErrorCode.StubError, Status: 0xC1 or 0xC0 };

    /// <summary>
    /// The ESP8266 ROM erases too much for some sizes; esptool sends a compensated size (protocol-facts §2.3).
    /// </summary>
    public static uint Esp8266EraseSize(uint offset, uint size)
    {
        const uint sectorsPerBlock = 16, sectorSize = 0x1000;
        uint sectors = (size + sectorSize - 1) / sectorSize;
        uint first = offset / sectorSize;
        uint head = Math.Min(sectorsPerBlock - first % sectorsPerBlock, sectors);
        return sectors < 2 * head ? (sectors + 1) / 2 * sectorSize : (sectors - head) * sectorSize;
    }
}

/// <summary>Checks of flash addresses shared by the flash operations.</summary>
public static class FlashRange
{
    public static void Check(EspSession session, uint address, uint length)
    {
        ulong end = (ulong)address + length;
        if (session.FlashSize is { } size && end > (ulong)size)
            throw new EspException(EspErrorCode.AddressOutOfRange,
                $"0x{address:X8}..0x{end:X8} ({length} bytes) runs past the end of the {FlashIdentity.FormatSize(size)} flash.",
                "Use a lower address or a smaller file.");
        if (end > 0x1_0000_0000UL)
            throw new EspException(EspErrorCode.AddressOutOfRange, $"0x{address:X8} + {length} bytes overflows the 32-bit address space.");
    }
}
