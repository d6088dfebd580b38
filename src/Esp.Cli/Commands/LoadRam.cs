using System.Text.Json.Nodes;
using Esp.Protocol.Errors;
using Esp.Protocol.Operations;
using static Esp.Cli.CliCommand;

namespace Esp.Cli.Commands;

/// <summary>load_ram: place an ESP image's segments in RAM and start it.</summary>
internal static class LoadRam
{
    public static CliCommand Create()
    {
        var file = Arg("file", "An ESP application image (.bin) whose segments are in RAM.");
        return new CliCommand
        {
            Name = "load_ram",
            Usage = "<file>",
            Command = Define("load_ram", "Load an application image into RAM and run it.", file),
            Run = async ctx =>
            {
                var data = ctx.ReadInputFile(ctx.Value(file));
                var (segments, entry) = RamImage.Read(data, ctx.Value(file)!);
                return await ctx.WithSessionAsync(async session =>
                {
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

/// <summary>Reads the segments and entry point of an ESP image for load_ram.</summary>
internal static class RamImage
{
    public static (List<RamSegment> Segments, uint Entry) Read(byte[] data, string name)
    {
        // Header: magic 0xE9, segment count, flash mode/size/freq, entry (4 bytes); ESP32-family images add a 16-byte extended header.
        if (data.Length < 8 || data[0] != 0xE9)
            throw new UsageException(EspErrorCode.InvalidImage, $"'{name}' is not an ESP application image (it does not start with 0xE9).");
        int count = data[1];
        uint entry = BitConverter.ToUInt32(data, 4);
        int offset = LooksExtended(data, count) ? 24 : 8;
        var segments = new List<RamSegment>();
        for (int i = 0; i < count; i++)
        {
            if (offset + 8 > data.Length)
                throw new UsageException(EspErrorCode.InvalidImage, $"'{name}' ends inside the header of segment {i}.");
            uint addr = BitConverter.ToUInt32(data, offset);
            int len = BitConverter.ToInt32(data, offset + 4);
            offset += 8;
            if (len < 0 || offset + len > data.Length)
                throw new UsageException(EspErrorCode.InvalidImage, $"'{name}': segment {i} runs past the end of the file.");
            segments.Add(new RamSegment(addr, data.AsSpan(offset, len).ToArray()));
            offset += len;
        }
        return (segments, entry);
    }

    /// <summary>ESP8266 v1 images have no extended header; ESP32-family ones do. Try the 24-byte layout first.</summary>
    private static bool LooksExtended(byte[] data, int count)
    {
        int offset = 24;
        for (int i = 0; i < count; i++)
        {
            if (offset + 8 > data.Length) return false;
            int len = BitConverter.ToInt32(data, offset + 4);
            if (len < 0 || offset + 8 + len > data.Length) return false;
            offset += 8 + len;
        }
        return data.Length >= 24;
    }
}
