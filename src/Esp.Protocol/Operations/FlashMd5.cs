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

    /// <summary>Hashes several ranges, keeping up to <paramref name="inFlight"/> requests in flight (one latency per window).</summary>
    public static async Task<string[]> ComputeManyAsync(EspSession session, IReadOnlyList<(uint Address, uint Length)> ranges,
        int inFlight = 1, CancellationToken ct = default)
    {
        if (ranges.Count == 0) return [];
        if (!IsAvailable(session))
            throw new EspException(EspErrorCode.UnsupportedCommand,
                $"The {session.Chip.Name} ROM loader cannot compute a flash MD5.", "Run with the flasher stub (leave out --no-stub / EspNoStub).");
        await session.EnsureFlashAttachedAsync(ct).ConfigureAwait(false);
        var results = new string[ranges.Count];
        int sent = 0, done = 0;
        var batch = new List<byte[]>();
        while (done < ranges.Count)
        {
            batch.Clear();
            while (sent < ranges.Count && sent - done < Math.Max(1, inFlight))
            {
                var (a, l) = ranges[sent++];
                batch.Add(Request.Build(Opcode.SpiFlashMd5, Request.Words(a, l, 0, 0)));
            }
            if (batch.Count > 0) await session.Link.SendManyAsync(batch, ct).ConfigureAwait(false);
            var timeout = session.Timeouts.Scaled(session.Timeouts.Md5PerMegabyte, ranges[done].Length);
            var reply = await session.Commands.ReadReplyAsync(Opcode.SpiFlashMd5, timeout, session.IsStub ? 16 : 32, ct).ConfigureAwait(false);
            results[done++] = session.IsStub ? Convert.ToHexStringLower(reply.Data) : Encoding.ASCII.GetString(reply.Data).ToLowerInvariant();
        }
        return results;
    }

    public static string Of(ReadOnlySpan<byte> data) => Convert.ToHexStringLower(MD5.HashData(data));

    /// <summary>Whether the chip can hash flash in the current session.</summary>
    public static bool IsAvailable(EspSession session) =>
        session.IsStub || (session.Chip.RomFeatures & Chips.RomFeatures.Md5) != 0;
}
