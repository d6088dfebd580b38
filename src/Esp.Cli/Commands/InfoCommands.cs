using System.Text.Json.Nodes;
using Esp.Protocol.Chips;
using Esp.Protocol.Loader;
using Esp.Protocol.Operations;
using static Esp.Cli.CliCommand;

namespace Esp.Cli.Commands;

/// <summary>read_mac, flash_id, chip_id.</summary>
internal static class InfoCommands
{
    public static IEnumerable<CliCommand> Create() => [ReadMac(), FlashId(), ChipId()];

    private static CliCommand ReadMac() => new()
    {
        Name = "read_mac",
        Usage = "",
        Command = Define("read_mac", "Read the chip's factory MAC address from eFuse."),
        Run = ctx => ctx.WithSessionAsync(async session =>
        {
            var mac = await ChipFacts.ReadMacAsync(session, ctx.CancellationToken).ConfigureAwait(false);
            ctx.Output.Line($"MAC: {mac}");
            return new JsonObject { ["mac"] = mac };
        }),
    };

    private static CliCommand FlashId() => new()
    {
        Name = "flash_id",
        Usage = "",
        Command = Define("flash_id", "Read the SPI flash's JEDEC id and size."),
        Run = ctx => ctx.WithSessionAsync(async session =>
        {
            var id = await FlashIdentity.ReadAsync(session, ctx.CancellationToken).ConfigureAwait(false);
            ctx.Output.Line($"Manufacturer: {id.Manufacturer:x2}");
            ctx.Output.Line($"Device: {id.Device:x4}");
            ctx.Output.Line($"Detected flash size: {(id.Size is { } s ? FlashIdentity.FormatSize(s) : "Unknown")}");
            return new JsonObject
            {
                ["flashId"] = id.RawId,
                ["manufacturer"] = id.Manufacturer,
                ["device"] = id.Device,
                ["flashSize"] = id.Size,
                ["flashSizeText"] = id.Size is { } sz ? FlashIdentity.FormatSize(sz) : null,
            };
        }),
    };

    private static CliCommand ChipId() => new()
    {
        Name = "chip_id",
        Usage = "",
        Command = Define("chip_id", "Read the chip id (ESP8266; other chips have none, so their MAC is shown)."),
        Run = ctx => ctx.WithSessionAsync(async session =>
        {
            var result = new JsonObject();
            if (session.Chip.IsEsp8266)
            {
                uint id0 = await session.ReadRegAsync(session.Chip.MacRegister, ctx.CancellationToken).ConfigureAwait(false);
                uint id1 = await session.ReadRegAsync(session.Chip.MacRegister + 4, ctx.CancellationToken).ConfigureAwait(false);
                uint chipId = (id0 >> 24) | ((id1 & 0xFFFFFF) << 8);
                ctx.Output.Line($"Chip ID: 0x{chipId:x8}");
                result["chipId"] = chipId;
            }
            else
            {
                ctx.Output.Warning($"{session.Chip.Name} has no chip id; reading the MAC instead.");
                if (session.Security?.ChipId is { } sid) result["imageChipId"] = sid;
            }
            var mac = await ChipFacts.ReadMacAsync(session, ctx.CancellationToken).ConfigureAwait(false);
            if (!session.Chip.IsEsp8266) ctx.Output.Line($"MAC: {mac}");
            result["mac"] = mac;
            return result;
        }),
    };
}

/// <summary>Facts about the connected chip read from its registers.</summary>
internal static class ChipFacts
{
    public static async Task<string> ReadMacAsync(EspSession session, CancellationToken ct)
    {
        var chip = session.Chip;
        var cache = new Dictionary<uint, uint>();
        async Task<uint> Read(uint a)
        {
            if (!cache.TryGetValue(a, out var v)) cache[a] = v = await session.ReadRegAsync(a, ct).ConfigureAwait(false);
            return v;
        }
        byte[] mac;
        switch (chip.MacLayout)
        {
            case MacLayout.Esp8266Otp:
            {
                uint m0 = await Read(chip.MacRegister).ConfigureAwait(false);
                uint m1 = await Read(chip.MacRegister + 4).ConfigureAwait(false);
                uint m3 = await Read(chip.MacRegister + 12).ConfigureAwait(false);
                byte[] oui = m3 != 0 ? [(byte)(m3 >> 16), (byte)(m3 >> 8), (byte)m3]
                    : ((m1 >> 16) & 0xFF) == 0 ? [0x18, 0xFE, 0x34] : [0xAC, 0xD0, 0x74];
                mac = [oui[0], oui[1], oui[2], (byte)(m1 >> 8), (byte)m1, (byte)(m0 >> 24)];
                break;
            }
            case MacLayout.Esp32Blk0:
            {
                uint w2 = await Read(chip.MacRegister + 4).ConfigureAwait(false);
                uint w1 = await Read(chip.MacRegister).ConfigureAwait(false);
                mac = Join(w2, w1);
                break;
            }
            default:
            {
                uint m0 = await Read(chip.MacRegister).ConfigureAwait(false);
                uint m1 = await Read(chip.MacRegister + 4).ConfigureAwait(false);
                mac = Join(m1, m0);
                break;
            }
        }
        return string.Join(':', mac.Select(b => b.ToString("x2")));
    }

    private static byte[] Join(uint high, uint low) =>
        [(byte)(high >> 8), (byte)high, (byte)(low >> 24), (byte)(low >> 16), (byte)(low >> 8), (byte)low];
}
