using System.Security.Cryptography;
using Esp.Protocol.Errors;
using Esp.Protocol.Loader;

namespace Esp.Protocol.Operations;

/// <summary>SPI_FLASH_MD5: the chip hashes a flash range itself, so checking costs one round trip.</summary>
public static class FlashMd5
{
    /// <summary>Returns the MD5 of <paramref name="length"/> bytes of flash at <paramref name="address"/> as lowercase hex.</summary>
    public static async Task<string> ComputeAsync(EspSession session, uint address, uint length, CancellationToken ct = default)
    {
        RequireAvailable(session);
        await session.EnsureFlashAttachedAsync(ct).ConfigureAwait(false);
        var reply = await session.ExecuteAsync(session.Loader.FlashMd5(address, length), ct).ConfigureAwait(false);
        return session.Loader.Md5Hex(reply);
    }

    /// <summary>Hashes several ranges, as many requests in flight as the loader takes (one latency per window).</summary>
    public static async Task<string[]> ComputeManyAsync(EspSession session, IReadOnlyList<(uint Address, uint Length)> ranges,
        CancellationToken ct = default)
    {
        if (ranges.Count == 0) return [];
        RequireAvailable(session);
        await session.EnsureFlashAttachedAsync(ct).ConfigureAwait(false);
        var results = new string[ranges.Count];
        await RequestPipeline.RunAsync(session, ranges.Count, i => session.Loader.FlashMd5(ranges[i].Address, ranges[i].Length),
            session.Windows.FlashMd5, (i, reply) => results[i] = session.Loader.Md5Hex(reply), ct).ConfigureAwait(false);
        return results;
    }

    public static string Of(ReadOnlySpan<byte> data) => Convert.ToHexStringLower(MD5.HashData(data));

    /// <summary>Whether the chip can hash flash in the current session.</summary>
    public static bool IsAvailable(EspSession session) => session.Loader.CanHashFlash;

    private static void RequireAvailable(EspSession session)
    {
        if (!IsAvailable(session))
            throw new EspException(EspErrorCode.UnsupportedCommand,
                $"The {session.Chip.Name} {session.Loader.Name} cannot compute a flash MD5, so the flash cannot be checked.",
                "Run with the flasher stub (leave out --no-stub / EspNoStub), which can.");
    }
}
