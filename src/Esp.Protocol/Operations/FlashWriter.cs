using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics;
using System.IO.Compression;
using System.Security.Cryptography;
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
public static partial class FlashWriter
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
                "Run with the flasher stub (leave out --no-stub / EspNoStub), or pass --no-verify to write unchecked.");
        FlashRange.Check(session, address, (uint)data.Length);

        var sw = Stopwatch.StartNew();
        long wireBefore = session.Link.BytesWritten;

        // Whole sectors are erased; keep what precedes an unaligned start by writing it back.
        uint sector = ProtocolConstants.FlashSectorSize;
        uint start = address;
        byte[] head = [];
        int headLength = (int)(address % sector);
        if (headLength > 0 && options.PreserveSectorHead && FlashReader.IsAvailable(session))
        {
            start = address - (uint)headLength;
            head = await FlashReader.ReadAsync(session, start, headLength, null, ct).ConfigureAwait(false);
        }
        else if (headLength > 0 && !session.IsStub)
        {
            // The ROM needs a sector-aligned start: pad with erased bytes.
            start = address - (uint)headLength;
            head = new byte[headLength];
            head.AsSpan().Fill(0xFF);
        }
        // The payload is head + data + erased bytes up to a whole word. It is never copied as a whole: blocks are
        // cut from it (and compressed) as they are sent, so memory does not grow with the image.
        var payload = new Payload(head, data);

        CompressedImage? image = null;
        bool canCompress = session.IsStub || RomCanInflate(session);
        if (options.Compress != false && canCompress)
        {
            // First pass (all cores): the compressed size, which FLASH_DEFL_BEGIN needs up front and "compress only
            // when it shrinks" needs too. Up to HoldCompressedLimit the compressed chunks are kept and sent as they
            // are; above it only their sizes are kept and the send recompresses them identically, a few at a time.
            image = CompressedImage.Build(payload, ZLibLevel, DeflateChunkSize, hold: payload.Length <= HoldCompressedLimit);
            if (options.Compress is null && image.Length >= payload.Length)
            {
                image.Dispose();
                image = null;
            }
        }
        else if (options.Compress == true)
        {
            throw new EspException(EspErrorCode.UnsupportedCommand,
                $"The {session.Chip.Name} ROM loader cannot take compressed data.", "Write uncompressed, or use a stub.");
        }

        // The stub double-buffers its input, so a second block may be on its way while it handles the first; this
        // hides the reply's round trip. The ROM handles one frame at a time.
        int depth = session.IsStub ? BlocksInFlight : 1;
        // The host MD5 is only needed after the transfer; on another core it costs no time.
        var md5Task = Task.Run(payload.Md5, CancellationToken.None);
        var tracker = new WriteTracker();
        try
        {
            for (int attempt = 0; ; attempt++)
            {
                try
                {
                    if (image is not null)
                        await WriteCompressedAsync(session, start, payload.Length, image, depth, progress, headLength, tracker, ct).ConfigureAwait(false);
                    else
                        await WritePlainAsync(session, start, payload, depth, progress, headLength, tracker, ct).ConfigureAwait(false);
                    break;
                }
                catch (PipelineBrokenException ex) when (attempt == 0)
                {
                    // A pipelined block failed after its successor was sent: the stub may have taken the successor in
                    // its place. Start the range again, one block at a time (with the usual per-block retries).
                    _ = ex;
                    await session.Link.DrainAsync(TimeSpan.FromMilliseconds(50), ct).ConfigureAwait(false);
                    depth = 1;
                    tracker.AckedPayload = tracker.SentPayload = 0;
                }
            }
        }
        catch (Exception ex) when (tracker.Begun && IsInterruption(ex, ct))
        {
            if (ex is PipelineBrokenException { InnerException: EspException inner }) ex = inner;
            // Blocks still in flight may or may not have reached the flash: they count as written but not verified.
            throw Incomplete(ex, address, data.Length, start, Math.Max(tracker.AckedPayload, tracker.SentPayload), verified: false);
        }
        finally
        {
            image?.Dispose();
        }

        string hostMd5 = await md5Task.ConfigureAwait(false);
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
        return new FlashWriteResult(address, data.Length, session.Link.BytesWritten - wireBefore, image is not null, verified, hostMd5, sw.Elapsed);
    }

    /// <summary>*_DATA blocks kept in flight with a stub (the stubs receive into one buffer while handling the other).</summary>
    public static int BlocksInFlight { get; set; } = 1;

    /// <summary>zlib level (1..9) for compressed writes; see docs/performance.md for the measurement behind the default.</summary>
    public static int ZLibLevel { get; set; } = 5;

    /// <summary>
    /// Payloads up to this size keep their compressed chunks from the counting pass and send them (one compression
    /// pass, memory ∝ compressed image); larger ones recompress while sending (two passes, memory bounded).
    /// </summary>
    public static int HoldCompressedLimit { get; set; } = 8 * 1024 * 1024;

    /// <summary>Input bytes per independently compressed chunk (pigz style: one chunk per core at a time).</summary>
    internal const int DeflateChunkSize = 256 * 1024;

    /// <summary>How far a write got: set once *_BEGIN is sent, advanced as the chip acknowledges blocks.</summary>
    private sealed class WriteTracker
    {
        public bool Begun;
        /// <summary>Payload bytes (from the aligned start) the chip has acknowledged, at least.</summary>
        public long AckedPayload;
        /// <summary>Payload bytes sent, at most: with blocks in flight the chip may have written more than it acknowledged.</summary>
        public long SentPayload;
    }

    /// <summary>Failures after which the flash is in an unknown, partly written state (not bad arguments).</summary>
    private static bool IsInterruption(Exception ex, CancellationToken ct) =>
        ex is OperationCanceledException && ct.IsCancellationRequested
        || ex is PipelineBrokenException
        || ex is EspException { Code: not (EspErrorCode.FlashWriteProtected or EspErrorCode.UnsupportedCommand or EspErrorCode.FlashEncrypted) } and not EspWriteIncompleteException;

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

    /// <summary>The zlib stream a compressed write sends for <paramref name="data"/> (used for ratio figures and tests).</summary>
    public static byte[] Deflate(ReadOnlySpan<byte> data) => ChunkedDeflate.Compress(data, ZLibLevel, DeflateChunkSize);

    private static uint[] BeginWords(EspSession session, uint size, uint blocks, uint blockSize, uint offset)
    {
        bool fifth = session.IsStub || (session.Chip.RomFeatures & Chips.RomFeatures.EncryptedFlag) != 0;
        return fifth ? [size, blocks, blockSize, offset, 0] : [size, blocks, blockSize, offset];
    }

    private static async Task WritePlainAsync(EspSession session, uint offset, Payload payload, int depth, IProgress<EspProgress>? progress, int skip,
        WriteTracker tracker, CancellationToken ct)
    {
        int blockSize = session.FlashBlockSize;
        int length = payload.Length;
        uint blocks = (uint)((length + blockSize - 1) / blockSize);
        uint eraseSize = session.IsStub || !session.Chip.IsEsp8266 ? (uint)length : Esp8266EraseSize(offset, (uint)length);
        var beginTimeout = session.IsStub ? session.Timeouts.Command : session.Timeouts.Scaled(session.Timeouts.EraseWritePerMegabyte, length);
        progress?.Report(new EspProgress("write", 0, length - skip, session.IsStub ? null : "erasing"));
        tracker.Begun = true;
        await session.Commands.ExecuteAsync(Opcode.FlashBegin, Request.Words(BeginWords(session, eraseSize, blocks, (uint)blockSize, offset)),
            timeout: beginTimeout, cancellationToken: ct).ConfigureAwait(false);

        var sender = new BlockSender(session, Opcode.FlashData, blockSize, depth, session.Timeouts.Scaled(session.Timeouts.EraseWritePerMegabyte, blockSize),
            retryTimeouts: true, onAcked: blocksAcked =>
            {
                // Progress follows what the chip acknowledged, so it never runs ahead of the incomplete-write report.
                tracker.AckedPayload = Math.Min(length, (long)blocksAcked * blockSize);
                progress?.Report(new EspProgress("write", Math.Max(0, tracker.AckedPayload - skip), length - skip));
            });
        for (uint seq = 0; seq < blocks; seq++)
        {
            int at = (int)seq * blockSize;
            int n = Math.Min(blockSize, length - at);
            var block = sender.Next();
            payload.CopyTo(at, block[..n]);
            block[n..].Fill(0xFF); // the last block goes out padded with erased bytes
            tracker.SentPayload = at + n;
            await sender.SendAsync(blockSize, ct).ConfigureAwait(false);
        }
        await sender.FinishAsync(ct).ConfigureAwait(false);
        if (session.IsStub)
            await session.Commands.ExecuteAsync(Opcode.FlashEnd, Request.Words(1), cancellationToken: ct).ConfigureAwait(false);
    }

    private static async Task WriteCompressedAsync(EspSession session, uint offset, int size, CompressedImage image, int depth,
        IProgress<EspProgress>? progress, int skip, WriteTracker tracker, CancellationToken ct)
    {
        long compressedLength = image.Length;
        int blockSize = session.FlashBlockSize;
        uint blocks = (uint)((compressedLength + blockSize - 1) / blockSize);
        uint word0 = session.IsStub ? (uint)size : (uint)((size + 0x3FF) / 0x400 * 0x400);
        var beginTimeout = session.IsStub ? session.Timeouts.Command : session.Timeouts.Scaled(session.Timeouts.EraseWritePerMegabyte, size);
        progress?.Report(new EspProgress("write", 0, size - skip, session.IsStub ? null : "erasing"));
        tracker.Begun = true;
        await session.Commands.ExecuteAsync(Opcode.FlashDeflBegin, Request.Words(BeginWords(session, word0, blocks, (uint)blockSize, offset)),
            timeout: beginTimeout, cancellationToken: ct).ConfigureAwait(false);

        double ratio = (double)size / Math.Max(1, compressedLength);
        // A compressed block may expand to much more flash work than its size suggests.
        var timeout = session.Timeouts.Scaled(session.Timeouts.EraseWritePerMegabyte, (long)(blockSize * ratio) + 65536);
        // A ROM inflates blocks in order and writes wherever its output has got to: a block sent again after a
        // timeout (when the chip had in fact taken it) would run past the erased region into the next sector. Only
        // explicit rejections are retried there; a timeout fails the write (a resume starts afresh).
        // What the chip acknowledged is reported in whole compressed chunks, a lower bound of what it wrote.
        var sender = new BlockSender(session, Opcode.FlashDeflData, blockSize, depth, timeout, retryTimeouts: session.IsStub,
            onAcked: blocksAcked =>
            {
                tracker.AckedPayload = image.PayloadCoveredBy((long)blocksAcked * blockSize);
                progress?.Report(new EspProgress("write", Math.Max(0, Math.Min(size, (long)((long)blocksAcked * blockSize * ratio)) - skip), size - skip));
            });
        long sent = 0;
        uint seq = 0;
        int fill = 0; // bytes already in the next block's packet buffer

        async Task SendBlockAsync()
        {
            // The chunk being sent may be partly inflated and written already.
            tracker.SentPayload = Math.Min(size, image.PayloadCoveredBy(sent + fill) + DeflateChunkSize);
            await sender.SendAsync(fill, ct).ConfigureAwait(false);
            sent += fill;
            seq++;
            fill = 0;
        }

        // Compressed bytes go straight into the packet buffers; a block is sent as soon as it is full.
        async Task AppendAsync(ReadOnlyMemory<byte> bytes)
        {
            while (!bytes.IsEmpty)
            {
                int n = Math.Min(blockSize - fill, bytes.Length);
                bytes.Span[..n].CopyTo(sender.Next()[fill..]);
                fill += n;
                bytes = bytes[n..];
                if (fill == blockSize) await SendBlockAsync().ConfigureAwait(false);
            }
        }

        await AppendAsync(image.Header).ConfigureAwait(false);
        await using (var chunks = image.Open())
        {
            for (int i = 0; i < image.ChunkCount; i++)
                await AppendAsync(await chunks.NextAsync().ConfigureAwait(false)).ConfigureAwait(false);
        }
        await AppendAsync(image.Trailer).ConfigureAwait(false);
        if (fill > 0) await SendBlockAsync().ConfigureAwait(false);
        await sender.FinishAsync(ct).ConfigureAwait(false);
        if (sent != compressedLength || seq != blocks)
            throw new EspException(EspErrorCode.ProtocolViolation,
                $"Internal error: the compressed stream was {sent} bytes in {seq} blocks, but {compressedLength} bytes in {blocks} blocks were announced.");
        if (session.IsStub)
            await session.Commands.ExecuteAsync(Opcode.FlashDeflEnd, Request.Words(1),
                timeout: session.Timeouts.Scaled(session.Timeouts.EraseWritePerMegabyte, blockSize * 2), cancellationToken: ct).ConfigureAwait(false);
    }

    /// <summary>
    /// Sends *_DATA blocks with up to <c>depth</c> in flight, reusing <c>depth</c> packet buffers. With one in flight a
    /// block is retried on timeouts and damaged-data answers as esptool does; with more, a failure breaks the pipeline.
    /// </summary>
    private sealed class BlockSender(EspSession session, Opcode op, int blockSize, int depth, TimeSpan timeout,
        bool retryTimeouts, Action<uint> onAcked)
    {
        private uint _acked;
        private const int DataHeader = Request.HeaderLength + 16;
        private readonly byte[][] _packets = Enumerable.Range(0, depth).Select(_ => new byte[DataHeader + blockSize]).ToArray();
        private readonly int[] _lengths = new int[depth];
        private uint _seq;
        private int _outstanding;

        /// <summary>The data area of the next packet.</summary>
        public Span<byte> Next() => _packets[_seq % (uint)_packets.Length].AsSpan(DataHeader, blockSize);

        public async Task SendAsync(int dataLength, CancellationToken ct)
        {
            if (_outstanding == _packets.Length) await ReplyAsync(ct).ConfigureAwait(false);
            int slot = (int)(_seq % (uint)_packets.Length);
            var packet = _packets[slot];
            var data = packet.AsSpan(DataHeader, dataLength);
            packet[0] = ProtocolConstants.DirectionRequest;
            packet[1] = (byte)op;
            BinaryPrimitives.WriteUInt16LittleEndian(packet.AsSpan(2), (ushort)(16 + dataLength));
            BinaryPrimitives.WriteUInt32LittleEndian(packet.AsSpan(4), ProtocolConstants.Checksum(data));
            BinaryPrimitives.WriteUInt32LittleEndian(packet.AsSpan(8), (uint)dataLength);
            BinaryPrimitives.WriteUInt32LittleEndian(packet.AsSpan(12), _seq);
            BinaryPrimitives.WriteUInt64LittleEndian(packet.AsSpan(16), 0);
            _lengths[slot] = DataHeader + dataLength;
            _seq++;
            await session.Link.SendAsync(packet.AsMemory(0, _lengths[slot]), ct).ConfigureAwait(false);
            _outstanding++;
            if (_packets.Length == 1) await ReplyAsync(ct).ConfigureAwait(false);
        }

        public async Task FinishAsync(CancellationToken ct)
        {
            while (_outstanding > 0) await ReplyAsync(ct).ConfigureAwait(false);
        }

        private async Task ReplyAsync(CancellationToken ct)
        {
            int slot = (int)((_seq - (uint)_outstanding) % (uint)_packets.Length);
            for (int attempt = 1; ; attempt++)
            {
                try
                {
                    await session.Commands.ReadReplyAsync(op, timeout, 0, ct).ConfigureAwait(false);
                    _outstanding--;
                    onAcked(++_acked);
                    return;
                }
                catch (EspException ex) when (IsTransient(ex) && (retryTimeouts || ex.Code != EspErrorCode.Timeout))
                {
                    if (_packets.Length > 1) throw new PipelineBrokenException(ex);
                    if (attempt >= WriteBlockAttempts) throw;
                    await session.Link.DrainAsync(TimeSpan.FromMilliseconds(50), ct).ConfigureAwait(false);
                    await session.Link.SendAsync(_packets[slot].AsMemory(0, _lengths[slot]), ct).ConfigureAwait(false);
                }
            }
        }
    }

    private sealed class PipelineBrokenException(EspException inner) : Exception("A pipelined block failed.", inner);

    /// <summary>The bytes to write: an optional head read back from flash, the data, and erased bytes up to a whole word.</summary>
    internal sealed class Payload(byte[] head, ReadOnlyMemory<byte> data)
    {
        private static readonly byte[] Erased = [0xFF, 0xFF, 0xFF];
        private readonly int _pad = (4 - (head.Length + data.Length) % 4) % 4;

        public int Length => head.Length + data.Length + _pad;

        private IEnumerable<ReadOnlyMemory<byte>> Segments()
        {
            if (head.Length > 0) yield return head;
            yield return data;
            if (_pad > 0) yield return Erased.AsMemory(0, _pad);
        }

        /// <summary>
        /// The bytes [offset, offset + length): a slice of the caller's data when they lie in one segment, otherwise a
        /// copy in <paramref name="rented"/> (from the shared pool; the caller returns it).
        /// </summary>
        public ReadOnlyMemory<byte> Slice(int offset, int length, out byte[]? rented)
        {
            rented = null;
            int pos = 0;
            foreach (var seg in Segments())
            {
                if (offset >= pos && offset + length <= pos + seg.Length) return seg.Slice(offset - pos, length);
                pos += seg.Length;
            }
            rented = ArrayPool<byte>.Shared.Rent(length);
            CopyTo(offset, rented.AsSpan(0, length));
            return rented.AsMemory(0, length);
        }

        public void CopyTo(int offset, Span<byte> destination)
        {
            int pos = 0;
            foreach (var seg in Segments())
            {
                if (destination.IsEmpty) return;
                if (offset >= pos + seg.Length) { pos += seg.Length; continue; }
                int from = Math.Max(0, offset - pos);
                int n = Math.Min(seg.Length - from, destination.Length);
                seg.Span.Slice(from, n).CopyTo(destination);
                destination = destination[n..];
                offset += n;
                pos += seg.Length;
            }
        }

        public string Md5()
        {
            using var md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
            foreach (var seg in Segments()) md5.AppendData(seg.Span);
            return Convert.ToHexStringLower(md5.GetHashAndReset());
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
