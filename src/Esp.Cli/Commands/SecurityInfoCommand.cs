using System.Text.Json.Nodes;
using Esp.Protocol.Loader;
using Esp.Protocol.Operations;
using static Esp.Cli.CliCommand;

namespace Esp.Cli.Commands;

/// <summary>get_security_info: the chip's security state, printed as esptool prints it.</summary>
internal static class SecurityInfoCommand
{
    public static CliCommand Create() => new()
    {
        Name = "get_security_info",
        Usage = "",
        Command = Define("get_security_info", "Show the chip's security information: flags, flash encryption, key purposes, chip id, API version (ESP32-S2 and later)."),
        Run = ctx => ctx.WithSessionAsync(async session =>
        {
            var info = await ChipSecurity.ReadAsync(session, ctx.CancellationToken).ConfigureAwait(false);
            foreach (var line in Describe(info)) ctx.Output.Line(line);
            return Json(info);
        }),
    };

    /// <summary>esptool's layout: a title, the raw fields, then what the flags mean.</summary>
    internal static IEnumerable<string> Describe(SecurityInfo info)
    {
        const string title = "Security Information:";
        yield return "";
        yield return title;
        yield return new string('=', title.Length);
        yield return $"Flags: 0x{info.Flags:x8} (0b{Convert.ToString(info.Flags, 2)})";
        yield return $"Key Purposes: ({string.Join(", ", info.KeyPurposes)})";
        if (info.ChipId is { } chipId && info.ApiVersion is { } api)
        {
            yield return $"Chip ID: {chipId}";
            yield return $"API Version: {api}";
        }
        var flags = info.FlagBits;
        if (info.SecureBootEnabled)
        {
            yield return "Secure Boot: Enabled";
            if (flags.HasFlag(SecurityFlags.SecureBootAggressiveRevoke)) yield return "Secure Boot Aggressive key revocation: Enabled";
            if (info.RevokedKeys.Count > 0)
            {
                yield return "Secure Boot Key Revocation Status:";
                foreach (var slot in info.RevokedKeys) yield return $"\tSecure Boot Key{slot} is Revoked";
            }
        }
        else
        {
            yield return "Secure Boot: Disabled";
        }
        yield return $"Flash Encryption: {(info.FlashEncryptionEnabled ? "Enabled" : "Disabled")}";
        yield return $"SPI Boot Crypt Count (SPI_BOOT_CRYPT_CNT): 0x{info.FlashCryptCount:x}";
        if (flags.HasFlag(SecurityFlags.DisableDownloadDcache)) yield return "Dcache in UART download mode: Disabled";
        if (flags.HasFlag(SecurityFlags.DisableDownloadIcache)) yield return "Icache in UART download mode: Disabled";
        if (flags.HasFlag(SecurityFlags.HardDisableJtag)) yield return "JTAG: Permanently Disabled";
        else if (flags.HasFlag(SecurityFlags.SoftDisableJtag)) yield return "JTAG: Software Access Disabled";
        if (flags.HasFlag(SecurityFlags.DisableUsb)) yield return "USB Access: Disabled";
    }

    private static JsonObject Json(SecurityInfo info)
    {
        var flags = info.FlagBits;
        return new JsonObject
        {
            ["flags"] = info.Flags,
            ["flagNames"] = new JsonArray([.. Enum.GetValues<SecurityFlags>().Where(f => f != SecurityFlags.None && flags.HasFlag(f))
                .Select(f => (JsonNode?)JsonValue.Create(f.ToString()))]),
            ["flashCryptCount"] = info.FlashCryptCount,
            ["keyPurposes"] = new JsonArray([.. info.KeyPurposes.Select(p => (JsonNode?)JsonValue.Create((int)p))]),
            ["chipId"] = info.ChipId,
            ["apiVersion"] = info.ApiVersion,
            ["secureBoot"] = info.SecureBootEnabled,
            ["secureBootAggressiveRevoke"] = flags.HasFlag(SecurityFlags.SecureBootAggressiveRevoke),
            ["revokedKeys"] = new JsonArray([.. info.RevokedKeys.Select(k => (JsonNode?)JsonValue.Create(k))]),
            ["flashEncryption"] = info.FlashEncryptionEnabled,
            ["secureDownloadMode"] = info.SecureDownloadMode,
            ["jtag"] = flags.HasFlag(SecurityFlags.HardDisableJtag) ? "permanently disabled"
                : flags.HasFlag(SecurityFlags.SoftDisableJtag) ? "software access disabled" : "enabled",
            ["usbDisabled"] = flags.HasFlag(SecurityFlags.DisableUsb),
            ["downloadDcacheDisabled"] = flags.HasFlag(SecurityFlags.DisableDownloadDcache),
            ["downloadIcacheDisabled"] = flags.HasFlag(SecurityFlags.DisableDownloadIcache),
        };
    }
}
