using System.Text.Json.Nodes;
using Esp.Protocol.Operations;
using static Esp.Cli.CliCommand;

namespace Esp.Cli.Commands;

/// <summary>read_mac, flash_id, chip_id, get_security_info, run.</summary>
internal static class InfoCommands
{
    public static IEnumerable<CliCommand> Create() => [ReadMac(), FlashId(), ChipId(), SecurityInfoCommand.Create(), RunCommand.Create()];

    private static CliCommand ReadMac() => new()
    {
        Name = "read_mac",
        Usage = "",
        Command = Define("read_mac", "Read the chip's factory MAC address from eFuse."),
        Run = ctx => ctx.WithSessionAsync(async session =>
        {
            var mac = await ChipInfo.ReadMacAsync(session, ctx.CancellationToken).ConfigureAwait(false);
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
        Command = Define("chip_id", "Identify the chip: type, revision, features, crystal, MAC (and the ESP8266's chip id)."),
        Run = ctx => ctx.WithSessionAsync(async session =>
        {
            var result = new JsonObject();
            var info = await ChipInfo.ReadAsync(session, includeFlash: false, ctx.CancellationToken).ConfigureAwait(false);
            ctx.Output.Line(info.Description.Contains("revision", StringComparison.OrdinalIgnoreCase)
                ? $"Chip is {info.Description}" : $"Chip is {info.Description} (revision {info.RevisionText})");
            if (info.Features.Count > 0) ctx.Output.Line($"Features: {string.Join(", ", info.Features)}");
            if (info.CrystalMhz is { } mhz) ctx.Output.Line($"Crystal is {mhz}MHz");
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
                ctx.Output.Line($"{session.Chip.Name} has no chip id; its MAC identifies it.");
                if (session.Security?.ChipId is { } sid) result["imageChipId"] = sid;
            }
            ctx.Output.Line($"MAC: {info.Mac}");
            result["description"] = info.Description;
            result["revision"] = info.Revision;
            result["revisionText"] = info.RevisionText;
            result["features"] = new JsonArray(info.Features.Select(f => (JsonNode?)JsonValue.Create(f)).ToArray());
            result["crystalMhz"] = info.CrystalMhz;
            result["mac"] = info.Mac;
            return result;
        }),
    };
}
