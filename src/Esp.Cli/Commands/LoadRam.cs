using System.Text.Json.Nodes;
using Esp.Protocol.Operations;
using static Esp.Cli.CliCommand;

namespace Esp.Cli.Commands;

/// <summary>load_ram: place an ESP image's segments in RAM and start it.</summary>
internal static class LoadRam
{
    public static CliCommand Create()
    {
        var file = Arg("file", "An ESP application image (.bin, or Intel HEX holding one) whose segments are in RAM.");
        return new CliCommand
        {
            Name = "load_ram",
            Usage = "<file>",
            Command = Define("load_ram", "Load an application image into RAM and run it.", file),
            Run = async ctx =>
            {
                var data = ctx.ReadInputFile(ctx.Value(file));
                RamLoader.ParseProgram(data); // a damaged file is a usage error, found before any reset
                return await ctx.WithSessionAsync(async session =>
                {
                    var (segments, entry) = RamLoader.ParseProgram(data, session.Chip);
                    ctx.Output.Line($"RAM boot: {segments.Count} segment{(segments.Count == 1 ? "" : "s")}, entry 0x{entry:x8}");
                    foreach (var s in segments)
                        ctx.Output.Line($"  0x{s.Address:x8}..0x{s.End:x8} ({s.Data.Length} bytes)");
                    await ctx.Output.WithProgressAsync("load_ram", async p =>
                    {
                        await RamLoader.LoadAsync(session, segments, entry, p, ctx.CancellationToken).ConfigureAwait(false);
                        return true;
                    }).ConfigureAwait(false);
                    ctx.Output.Markup("[green]All segments done[/], executing at entry point.");
                    ctx.Output.Completed.Add("loaded the image into RAM");
                    var segs = new JsonArray();
                    foreach (var s in segments) segs.Add(new JsonObject { ["address"] = s.Address, ["size"] = s.Data.Length });
                    return new JsonObject { ["entry"] = entry, ["segments"] = segs };
                }).ConfigureAwait(false);
            },
        };
    }
}
