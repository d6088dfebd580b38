using System.Buffers.Binary;
using System.Security.Cryptography;
using Esp.Protocol.Chips;
using Esp.Protocol.Commands;
using Esp.Protocol.Errors;
using Esp.Protocol.Loader;

namespace Esp.Protocol.Operations;

/// <summary>Reads flash: stub READ_FLASH streaming (with acknowledgements and an MD5 at the end), or ROM READ_FLASH_SLOW.</summary>
public static class FlashReader
{
    /// <summary>ROM READ_FLASH_SLOW answers 64 bytes per request.</summary>
    public const int RomReadChunk = 64;

    public static bool IsAvailable(EspSession session) =>
        session.IsStub || (session.Chip.RomFeatures & RomFeatures.ReadFlashSlow) != 0;

    public static async Task<byte[]> ReadAsync(EspSession session, uint address, int length,
        IProgress<EspProgress>? progress = null, CancellationToken ct = default)
    {
        if (length < 0) throw new EspException(EspErrorCode.InvalidArgument, "The length to read must not be negative.");
        if (!IsAvailable(session))
            throw new EspException(EspErrorCode.UnsupportedCommand,
                $"The {session.Chip.Name} ROM loader cannot read flash.", "Run with the flasher stub (leave out --no-stub / EspNoStub).");
        await session.EnsureFlashAttachedAsync(ct).ConfigureAwait(false);
        FlashRange.Check(session, address, (uint)length);
        if (length == 0) return [];
        return session.IsStub
            ? await ReadStubAsync(session, address, length, progress, ct).ConfigureAwait(false)
            : await ReadRomAsync(session, address, length, progress, ct).ConfigureAwait(false);
    }

    private static async Task<byte[]> ReadStubAsync(EspSession session, uint address, int length, IProgress<EspProgress>? progress, CancellationToken ct)
    {
        const int packet = ProtocolConstants.ReadFlashPacketSize;
        await session.Commands.ExecuteAsync(Opcode.ReadFlash, Request.Words(address, (uint)length, packet, 64), cancellationToken: ct).ConfigureAwait(false);
        var data = new byte[length];
        int received = 0;
        var ack = new byte[4];
        while (received < length)
        {
            var frame = await session.Link.ReadFrameAsync(session.Timeouts.Command, ct).ConfigureAwait(false);
            int expected = Math.Min(packet, length - received);
            if (frame.Length != expected)
                throw new EspException(EspErrorCode.ProtocolViolation,
                    $"Corrupt flash data: a {frame.Length}-byte packet arrived where {expected} bytes were due at 0x{address + (uint)received:X8}.");
            frame.CopyTo(data, received);
            received += frame.Length;
            BinaryPrimitives.WriteUInt32LittleEndian(ack, (uint)received);
            await session.Link.SendAsync(ack, ct).ConfigureAwait(false);
            progress?.Report(new EspProgress("read", received, length));
        }
        var digest = await session.Link.ReadFrameAsync(session.Timeouts.Command, ct).ConfigureAwait(false);
        if (digest.Length != 16 || !digest.AsSpan().SequenceEqual(MD5.HashData(data)))
            throw new EspException(EspErrorCode.ProtocolViolation,
                $"The flash data read from 0x{address:X8} was damaged on the way (its MD5 does not match the chip's).");
        return data;
    }

    private static async Task<byte[]> ReadRomAsync(EspSession session, uint address, int length, IProgress<EspProgress>? progress, CancellationToken ct)
    {
        var data = new byte[length];
        int chunks = (length + RomReadChunk - 1) / RomReadChunk;
        await RequestPipeline.RunAsync(session, Opcode.ReadFlashSlow, chunks,
            i => Request.Build(Opcode.ReadFlashSlow, Request.Words(address + (uint)(i * RomReadChunk), (uint)Math.Min(RomReadChunk, length - i * RomReadChunk))),
            session.Windows.ReadFlashSlow, RomReadChunk, _ => session.Timeouts.Command,
            (i, reply) =>
            {
                int offset = i * RomReadChunk;
                int take = Math.Min(RomReadChunk, length - offset);
                reply.Data.AsSpan(0, take).CopyTo(data.AsSpan(offset));
                progress?.Report(new EspProgress("read", offset + take, length));
            }, ct).ConfigureAwait(false);
        return data;
    }
}
