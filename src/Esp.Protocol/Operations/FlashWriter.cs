using System.Diagnostics;
using Esp.Protocol.Commands;
using Esp.Protocol.Errors;
using Esp.Protocol.Loader;

namespace Esp.Protocol.Operations;

/// <summary>Writes data to flash through the ROM loader or the stub, then checks it with the chip's MD5.</summary>
public static class FlashWriter
{
    /// <summary>Input bytes per independently compressed chunk (pigz style: one chunk per core at a time).</summary>
    internal const int DeflateChunkSize = 256 * 1024;

    public static async Task<FlashWriteResult> WriteAsync(
        EspSession session, uint address, ReadOnlyMemory<byte> data, FlashWriteOptions? options = null,
        IProgress<EspProgress>? progress = null, CancellationToken ct = default)
    {
        options ??= new FlashWriteOptions();
        var loader = session.Loader;
        if (data.Length == 0)
            throw new EspException(EspErrorCode.FileEmpty, "There is nothing to write (0 bytes).");
        if (session.Security?.FlashEncryptionEnabled == true)
            throw new EspException(EspErrorCode.FlashEncrypted,
                "Flash encryption is enabled on this chip; a plain write would store unencrypted data the chip cannot run.");
        await session.EnsureFlashAttachedAsync(ct).ConfigureAwait(false);
        if (options.Verify && !loader.CanHashFlash)
            throw new EspException(EspErrorCode.UnsupportedCommand,
                $"The {session.Chip.Name} {loader.Name} cannot compute an MD5, so the write could not be checked.",
                "Run with the flasher stub (leave out --no-stub / EspNoStub), or pass --no-verify to write unchecked.");
        FlashRange.Check(session, address, (uint)data.Length);

        var sw = Stopwatch.StartNew();
        long wireBefore = session.WireBytesSent;
        var (start, head) = await SectorHeadAsync(session, address, options, ct).ConfigureAwait(false);
        int headLength = head.Length;
        // The payload is head + data + erased bytes up to a whole word. It is never copied as a whole: blocks are
        // cut from it (and compressed) as they are sent, so memory does not grow with the image.
        var payload = new WritePayload(head, data);

        CompressedImage? image = null;
        bool shared = false;
        if (options.Compress != false && loader.CanInflate)
        {
            // First pass (all cores): the compressed size, which FLASH_DEFL_BEGIN needs up front and "compress only
            // when it shrinks" needs too. Up to HoldCompressedLimit the compressed chunks are kept and sent as they
            // are; above it only their sizes are kept and the send recompresses them identically, a few at a time.
            bool hold = payload.Length <= options.HoldCompressedLimit;
            shared = hold && options.SharedCompression is not null;
            image = shared
                ? options.SharedCompression!.GetOrBuild(payload, options.ZLibLevel, DeflateChunkSize)
                : CompressedImage.Build(payload, options.ZLibLevel, DeflateChunkSize, hold);
            if (options.Compress is null && image.Length >= payload.Length)
            {
                if (!shared) image.Dispose();
                image = null;
            }
        }
        else if (options.Compress == true)
        {
            throw new EspException(EspErrorCode.UnsupportedCommand,
                $"The {session.Chip.Name} {loader.Name} cannot take compressed data.", "Write uncompressed, or use the flasher stub.");
        }

        // The host MD5 is only needed after the transfer; on another core it costs no time.
        var md5Task = Task.Run(payload.Md5, CancellationToken.None);
        var tracker = new WriteTracker();
        try
        {
            if (image is not null)
                await WriteCompressedAsync(session, start, payload.Length, image, progress, headLength, tracker, ct).ConfigureAwait(false);
            else
                await WritePlainAsync(session, start, payload, progress, headLength, tracker, ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (tracker.Begun && WriteTracker.IsInterruption(ex, ct))
        {
            // A block on its way may or may not have reached the flash: it counts as written but not verified.
            throw WriteTracker.Incomplete(ex, address, data.Length, start, Math.Max(tracker.AckedPayload, tracker.SentPayload), verified: false);
        }
        finally
        {
            if (!shared) image?.Dispose();
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
            catch (Exception ex) when (WriteTracker.IsInterruption(ex, ct))
            {
                throw WriteTracker.Incomplete(ex, address, data.Length, start, payload.Length, verified: false);
            }
            if (chipMd5 != hostMd5)
                throw new EspException(EspErrorCode.WriteVerifyFailed,
                    $"The flash at 0x{start:X8}..0x{start + (uint)payload.Length:X8} does not match what was sent (chip MD5 {chipMd5}, expected {hostMd5}).");
            verified = true;
            progress?.Report(new EspProgress("verify", payload.Length, payload.Length));
        }
        return new FlashWriteResult(address, data.Length, session.WireBytesSent - wireBefore, image is not null, verified, hostMd5, sw.Elapsed);
    }

    /// <summary>
    /// Whole sectors are erased, so a write that starts inside one begins at its boundary: with the bytes before the
    /// address read back (kept as they were), or, where the loader cannot read, erased bytes (ROM loaders need the
    /// boundary; a stub can start anywhere).
    /// </summary>
    private static async Task<(uint Start, byte[] Head)> SectorHeadAsync(EspSession session, uint address, FlashWriteOptions options, CancellationToken ct)
    {
        int headLength = (int)(address % ProtocolConstants.FlashSectorSize);
        if (headLength == 0) return (address, []);
        uint start = address - (uint)headLength;
        if (options.PreserveSectorHead && FlashReader.IsAvailable(session))
            return (start, await FlashReader.ReadCheckedAsync(session, start, headLength, ct).ConfigureAwait(false));
        if (session.Loader.WritesFromAnyAddress) return (address, []);
        var erased = new byte[headLength];
        erased.AsSpan().Fill(0xFF);
        return (start, erased);
    }

    /// <summary>The zlib stream a compressed write sends for <paramref name="data"/> (used for ratio figures and tests).</summary>
    public static byte[] Deflate(ReadOnlySpan<byte> data, int level = 5) => ChunkedDeflate.Compress(data, level, DeflateChunkSize);

    private static async Task WritePlainAsync(EspSession session, uint offset, WritePayload payload, IProgress<EspProgress>? progress, int skip,
        WriteTracker tracker, CancellationToken ct)
    {
        var loader = session.Loader;
        int blockSize = loader.FlashBlockSize;
        int length = payload.Length;
        uint blocks = (uint)((length + blockSize - 1) / blockSize);
        progress?.Report(new EspProgress("write", 0, length - skip, loader.ErasesAtBegin ? "erasing" : null));
        tracker.Begun = true;
        await session.ExecuteAsync(loader.FlashBegin(offset, (uint)length, blocks, (uint)blockSize), ct).ConfigureAwait(false);

        var sender = new BlockSender(session, Opcode.FlashData, blockSize, ReplyTimeout.EraseWriteOf(blockSize), retryTimeouts: true,
            onAcked: blocksAcked =>
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
        if (loader.FinishWrite(compressed: false) is { } finish)
            await session.ExecuteAsync(finish, ct).ConfigureAwait(false);
    }

    private static async Task WriteCompressedAsync(EspSession session, uint offset, int size, CompressedImage image,
        IProgress<EspProgress>? progress, int skip, WriteTracker tracker, CancellationToken ct)
    {
        var loader = session.Loader;
        long compressedLength = image.Length;
        int blockSize = loader.FlashBlockSize;
        uint blocks = (uint)((compressedLength + blockSize - 1) / blockSize);
        progress?.Report(new EspProgress("write", 0, size - skip, loader.ErasesAtBegin ? "erasing" : null));
        tracker.Begun = true;
        await session.ExecuteAsync(loader.FlashDeflBegin(offset, (uint)size, blocks, (uint)blockSize), ct).ConfigureAwait(false);

        double ratio = (double)size / Math.Max(1, compressedLength);
        // A compressed block may expand to much more flash work than its size suggests. What the chip acknowledged is
        // reported in whole compressed chunks, a lower bound of what it wrote.
        var sender = new BlockSender(session, Opcode.FlashDeflData, blockSize, ReplyTimeout.EraseWriteOf((long)(blockSize * ratio) + 65536),
            retryTimeouts: loader.RetriesTimedOutCompressedBlocks,
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

        // Compressed bytes go straight into the packet buffer; a block is sent as soon as it is full.
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
        if (sent != compressedLength || seq != blocks)
            throw new EspException(EspErrorCode.ProtocolViolation,
                $"Internal error: the compressed stream was {sent} bytes in {seq} blocks, but {compressedLength} bytes in {blocks} blocks were announced.");
        if (loader.FinishWrite(compressed: true) is { } finish)
            await session.ExecuteAsync(finish, ct).ConfigureAwait(false);
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
    /// The ESP8266 ROM erases too much for some sizes; esptool sends a compensated size (docs/protocol-facts-corrections.md).
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
