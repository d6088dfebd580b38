using System.Security.Cryptography;
using System.Text;
using Esp.Protocol.Commands;
using Esp.Protocol.Errors;
using Esp.Protocol.Loader;

namespace Esp.Protocol.Operations;

/// <summary>SPI_FLASH_MD5: the chip hashes a flash range itself, so checking costs one round trip.</summary>
public static class FlashMd5
{
    /// <summary>Returns the MD5 of <paramref name="length"/> bytes of flash at <paramref name="address"/> as lowercase hex.</summary>
    public static async Task<string> ComputeAsync(EspSession session, uint address, uint length, CancellationToken ct = default)
    {
        if (!session.IsStub && (session.Chip.RomFeatures & Chips.RomFeatures.Md5) == 0)
            throw new EspException(EspErrorCode.UnsupportedCommand,
                $"The {session.Chip.Name} ROM loader cannot compute a flash MD5, so the flash cannot be checked.",
                "Run with the flasher stub (leave out --no-stub / EspNoStub), which can.");
        await session.EnsureFlashAttachedAsync(ct).ConfigureAwait(false);
        var timeout = session.Timeouts.Scaled(session.Timeouts.Md5PerMegabyte, length);
        var reply = await session.Commands.ExecuteAsync(Opcode.SpiFlashMd5, Request.Words(address, length, 0, 0),
            timeout: timeout, expectedDataLength: session.IsStub ? 16 : 32, cancellationToken: ct).ConfigureAwait(false);
        // The ROM answers with 32 hex characters, the stub with the 16 raw digest bytes.
        return session.IsStub
            ? Convert.ToHexStringLower(reply.Data)
            : Encoding.ASCII.GetString(reply.Data).ToLowerInvariant();
    }

    /// <summary>Hashes several ranges, as many requests in flight as the loader takes (one latency per window).</summary>
    public static async Task<string[]> ComputeManyAsync(EspSession session, IReadOnlyList<(uint Address, uint Length)> ranges,
        CancellationToken ct = default)
    {
        if (ranges.Count == 0) return [];
        if (!IsAvailable(session))
            throw new EspException(EspErrorCode.UnsupportedCommand,
                $"The {session.Chip.Name} ROM loader cannot compute a flash MD5.", "Run with the flasher stub (leave out --no-stub / EspNoStub).");
        await session.EnsureFlashAttachedAsync(ct).ConfigureAwait(false);
        var results = new string[ranges.Count];
        await RequestPipeline.RunAsync(session, Opcode.SpiFlashMd5, ranges.Count,
            i => Request.Build(Opcode.SpiFlashMd5, Request.Words(ranges[i].Address, ranges[i].Length, 0, 0)),
            session.Windows.FlashMd5, session.IsStub ? 16 : 32,
            i => session.Timeouts.Scaled(session.Timeouts.Md5PerMegabyte, ranges[i].Length),
            (i, reply) => results[i] = session.IsStub ? Convert.ToHexStringLower(reply.Data) : Encoding.ASCII.GetString(reply.Data).ToLowerInvariant(),
            ct).ConfigureAwait(false);
        return results;
    }

    public static string Of(ReadOnlySpan<byte> data) => Convert.ToHexStringLower(MD5.HashData(data));

    /// <summary>Whether the chip can hash flash in the current session.</summary>
    public static bool IsAvailable(EspSession session) =>
        session.IsStub || (session.Chip.RomFeatures & Chips.RomFeatures.Md5) != 0;
}
