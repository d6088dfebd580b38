using Esp.Protocol.Errors;
using Esp.Protocol.Loader;

namespace Esp.Protocol.Operations;

/// <summary>The result of write_flash_status: the register before, what was asked, and what reads back.</summary>
public sealed record FlashStatusWrite(uint Before, uint Requested, uint After, int Bytes, bool NonVolatile)
{
    public bool Applied => (After & Mask(Bytes)) == (Requested & Mask(Bytes));
    internal static uint Mask(int bytes) => bytes >= 4 ? uint.MaxValue : (1u << (8 * bytes)) - 1;
}

/// <summary>SPI flash status registers SR1..SR3 (RDSR 05h/35h/15h, WRSR 01h/31h/11h).</summary>
public static class FlashStatus
{
    private static readonly byte[] ReadOpcodes = [0x05, 0x35, 0x15];
    private static readonly byte[] WriteOpcodes = [0x01, 0x31, 0x11];
    private const byte WriteEnable = 0x06, VolatileWriteEnable = 0x50, WriteDisable = 0x04;

    public static async Task<uint> ReadAsync(EspSession session, int bytes = 2, CancellationToken ct = default)
    {
        CheckBytes(bytes);
        await session.EnsureFlashAttachedAsync(ct).ConfigureAwait(false);
        uint status = 0;
        for (int i = 0; i < bytes; i++)
            status |= await SpiFlash.RunCommandAsync(session, ReadOpcodes[i], readBits: 8, ct: ct).ConfigureAwait(false) << (8 * i);
        return status;
    }

    /// <summary>
    /// Writes the status register(s). Volatile writes use WEVSR (50h) and are lost at power-off; non-volatile
    /// ones use WREN (06h) and persist — they can lock a flash chip, so callers must get explicit consent.
    /// </summary>
    public static async Task<FlashStatusWrite> WriteAsync(EspSession session, uint value, int bytes = 2, bool nonVolatile = false, CancellationToken ct = default)
    {
        CheckBytes(bytes);
        value &= FlashStatusWrite.Mask(bytes);
        uint before = await ReadAsync(session, bytes, ct).ConfigureAwait(false);
        byte enable = nonVolatile ? WriteEnable : VolatileWriteEnable;
        if (bytes == 2)
        {
            // Many flash chips take SR1 and SR2 together as a 16-bit WRSR; others only the separate commands below.
            await SpiFlash.RunCommandAsync(session, enable, ct: ct).ConfigureAwait(false);
            await SpiFlash.RunCommandAsync(session, 0x01, new[] { (byte)value, (byte)(value >> 8) }, ct: ct).ConfigureAwait(false);
        }
        uint v = value;
        for (int i = 0; i < bytes; i++)
        {
            await SpiFlash.RunCommandAsync(session, enable, ct: ct).ConfigureAwait(false);
            await SpiFlash.RunCommandAsync(session, WriteOpcodes[i], new[] { (byte)v }, ct: ct).ConfigureAwait(false);
            v >>= 8;
        }
        await SpiFlash.RunCommandAsync(session, WriteDisable, ct: ct).ConfigureAwait(false);
        uint after = await ReadAsync(session, bytes, ct).ConfigureAwait(false);
        return new FlashStatusWrite(before, value, after, bytes, nonVolatile);
    }

    /// <summary>
    /// The engine-level guard for non-volatile status writes: they can lock a flash chip for good, so they need an
    /// explicit yes from the caller (a person at a prompt, --yes, EspAllowNonVolatileStatusWrite=true). Hosts without a
    /// person to ask (CI, JSON output) must pass <paramref name="confirmed"/> only when the user opted in.
    /// </summary>
    /// <exception cref="EspException">ConfirmationRequired when <paramref name="nonVolatile"/> and not <paramref name="confirmed"/>.</exception>
    public static void RequireConsent(bool nonVolatile, bool confirmed)
    {
        if (nonVolatile && !confirmed)
            throw new EspException(EspErrorCode.ConfirmationRequired,
                "Writing non-volatile status bits needs confirmation: they can lock the flash chip for good. Nothing was written.");
    }

    /// <summary><see cref="WriteAsync"/> behind <see cref="RequireConsent"/>: nothing is sent unless a non-volatile write was confirmed.</summary>
    public static Task<FlashStatusWrite> WriteConfirmedAsync(EspSession session, uint value, int bytes, bool nonVolatile, bool confirmed, CancellationToken ct = default)
    {
        RequireConsent(nonVolatile, confirmed);
        return WriteAsync(session, value, bytes, nonVolatile, ct);
    }

    private static void CheckBytes(int bytes)
    {
        if (bytes is < 1 or > 3)
            throw new EspException(EspErrorCode.InvalidArgument, $"--bytes must be 1, 2 or 3 (got {bytes}).");
    }

    /// <summary>Names the common SR1/SR2 bits (GigaDevice/Winbond layout).</summary>
    public static string Describe(uint status, int bytes)
    {
        var parts = new List<string>();
        if ((status & 0x01) != 0) parts.Add("BUSY");
        if ((status & 0x02) != 0) parts.Add("WEL");
        uint bp = (status >> 2) & 0x7;
        parts.Add($"BP={bp}");
        if ((status & 0x20) != 0) parts.Add("TB");
        if ((status & 0x40) != 0) parts.Add("SEC");
        if ((status & 0x80) != 0) parts.Add("SRP0");
        if (bytes >= 2)
        {
            if ((status & 0x100) != 0) parts.Add("SRP1");
            parts.Add((status & 0x200) != 0 ? "QE=1" : "QE=0");
            if ((status & 0x4000) != 0) parts.Add("CMP");
        }
        return string.Join(' ', parts);
    }
}
