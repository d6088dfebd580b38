using Esp.Protocol.Chips;
using Esp.Protocol.Commands;
using Esp.Protocol.Errors;
using Esp.Protocol.Loader;

namespace Esp.Protocol.Operations;

/// <summary>GET_SECURITY_INFO, asked now (esptool's get_security_info): secure boot, flash encryption, JTAG, key purposes.</summary>
public static class ChipSecurity
{
    /// <exception cref="EspException">UnsupportedCommand on chips whose ROM has no GET_SECURITY_INFO (ESP8266, ESP32).</exception>
    public static async Task<SecurityInfo> ReadAsync(EspSession session, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(session);
        if ((session.Chip.RomFeatures & RomFeatures.SecurityInfo) == 0)
            throw new EspException(EspErrorCode.UnsupportedCommand,
                $"The {session.Chip.Name} has no GET_SECURITY_INFO command (its ROM predates it).",
                "Read its eFuses instead (espefuse summary); security information exists from the ESP32-S2 on.");
        var reply = await session.ExecuteAsync(LoaderCommands.GetSecurityInfo(), ct).ConfigureAwait(false);
        return SecurityInfo.Parse(reply.Data);
    }
}
