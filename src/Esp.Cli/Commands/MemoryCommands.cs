using System.Text.Json.Nodes;
using Esp.Protocol.Errors;
using Esp.Protocol.Operations;
using static Esp.Cli.CliCommand;

namespace Esp.Cli.Commands;

/// <summary>read_mem, write_mem, dump_mem, load_ram.</summary>
internal static class MemoryCommands
{
    public static IEnumerable<CliCommand> Create() => [ReadMem(), WriteMem(), DumpMem(), LoadRam.Create()];

    private static CliCommand ReadMem()
    {
        var address = Arg("address", "Address of the 32-bit word (a multiple of 4).");
        return new CliCommand
        {
            Name = "read_mem",
            Usage = "<address>",
            Command = Define("read_mem", "Read a 32-bit word of memory or a register.", address),
            Run = async ctx =>
            {
                uint addr = Numbers.ParseUInt(ctx.Value(address), "address");
                return await ctx.WithSessionAsync(async session =>
                {
                    uint value = await MemoryAccess.ReadWordAsync(session, addr, ctx.CancellationToken).ConfigureAwait(false);
                    ctx.Output.Line($"0x{addr:x8} = 0x{value:x8}");
                    return new JsonObject { ["address"] = addr, ["value"] = value, ["hex"] = $"0x{value:x8}" };
                }).ConfigureAwait(false);
            },
        };
    }

    private static CliCommand WriteMem()
    {
        var address = Arg("address", "Address of the 32-bit word.");
        var value = Arg("value", "Value to write.");
        var mask = new System.CommandLine.Argument<string?>("mask") { Description = "Bits to change (default 0xFFFFFFFF: all).", Arity = System.CommandLine.ArgumentArity.ZeroOrOne };
        var delay = new System.CommandLine.Argument<string?>("delay") { Description = "Microseconds the chip waits after writing (default 0).", Arity = System.CommandLine.ArgumentArity.ZeroOrOne };
        return new CliCommand
        {
            Name = "write_mem",
            Usage = "<address> <value> [<mask>] [<delay-us>]",
            Command = Define("write_mem", "Write a 32-bit word of memory or a register (read-modify-write with a mask).", address, value, mask, delay),
            Run = async ctx =>
            {
                uint addr = Numbers.ParseUInt(ctx.Value(address), "address");
                uint v = Numbers.ParseUInt(ctx.Value(value), "value");
                uint m = ctx.Value(mask) is { } mt ? Numbers.ParseUInt(mt, "mask") : 0xFFFFFFFF;
                uint d = ctx.Value(delay) is { } dt ? Numbers.ParseUInt(dt, "delay") : 0;
                return await ctx.WithSessionAsync(async session =>
                {
                    await MemoryAccess.WriteWordAsync(session, addr, v, m, d, ctx.CancellationToken).ConfigureAwait(false);
                    ctx.Output.Line($"Wrote 0x{v:x8}, mask 0x{m:x8} to 0x{addr:x8}");
                    ctx.Output.Completed.Add($"wrote 0x{addr:x8}");
                    return new JsonObject { ["address"] = addr, ["value"] = v, ["mask"] = m, ["delayUs"] = d };
                }).ConfigureAwait(false);
            },
        };
    }

    private static CliCommand DumpMem()
    {
        var address = Arg("address", "Start address (a multiple of 4).");
        var size = Arg("size", "Bytes to read (a multiple of 4; 1k, 0x400, 4096).");
        var file = Arg("file", "File to write the bytes to.");
        return new CliCommand
        {
            Name = "dump_mem",
            Usage = "<address> <size> <file>",
            Command = Define("dump_mem", "Dump a range of memory to a file.", address, size, file),
            Run = async ctx =>
            {
                uint addr = Numbers.ParseUInt(ctx.Value(address), "address");
                uint length = Numbers.ParseSize(ctx.Value(size), "size");
                if (length == 0) throw new UsageException(EspErrorCode.InvalidArgument, "The size must not be 0.");
                var path = ctx.OutputFile(ctx.Value(file));
                return await ctx.WithSessionAsync(async session =>
                {
                    var data = await ctx.Output.WithProgressAsync("dump_mem",
                        p => MemoryAccess.DumpAsync(session, addr, (int)length, p, ctx.CancellationToken), addr).ConfigureAwait(false);
                    await File.WriteAllBytesAsync(path, data, ctx.CancellationToken).ConfigureAwait(false);
                    ctx.Output.Line($"Read {data.Length} bytes at 0x{addr:x8} to {ctx.Value(file)}.");
                    ctx.Output.Completed.Add($"dumped {data.Length} bytes");
                    return new JsonObject { ["address"] = addr, ["size"] = data.Length, ["file"] = path, ["md5"] = FlashMd5.Of(data) };
                }).ConfigureAwait(false);
            },
        };
    }
}
