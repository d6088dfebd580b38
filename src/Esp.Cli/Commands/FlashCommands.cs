using System.CommandLine;
using System.Diagnostics;
using System.Text.Json.Nodes;
using Esp.Protocol.Errors;
using Esp.Protocol.Loader;
using Esp.Protocol.Operations;
using static Esp.Cli.CliCommand;

namespace Esp.Cli.Commands;

/// <summary>write_flash (<see cref="WriteFlash"/>), read_flash, verify_flash, erase_flash, erase_region, and what they share.</summary>
internal static class FlashCommands
{
    public static IEnumerable<CliCommand> Create() => [WriteFlash.Create(), ReadFlash(), VerifyFlash(), EraseFlash(), EraseRegion()];

    /// <summary>A file to place at an address.</summary>
    internal sealed record AddressedFile(uint Address, string Name, string Path, byte[] Data)
    {
        public uint End => Address + (uint)Data.Length;
    }

    /// <summary>Reads "address file [address file …]" and checks the files exist and do not overlap.</summary>
    internal static List<AddressedFile> Pairs(CliContext ctx, string[]? tokens, string command)
    {
        tokens ??= [];
        if (tokens.Length == 0 || tokens.Length % 2 != 0)
            throw UsageException.Invalid($"{command} needs pairs of <address> <file>" +
                (tokens.Length % 2 != 0 ? $" (got {tokens.Length} values; '{tokens[^1]}' has no partner)." : "."));
        var list = new List<AddressedFile>();
        for (int i = 0; i < tokens.Length; i += 2)
        {
            uint address = Numbers.ParseUInt(tokens[i], "address");
            var path = ctx.InputFile(tokens[i + 1]);
            var data = File.ReadAllBytes(path);
            if (data.Length == 0)
                throw new UsageException(EspErrorCode.FileEmpty, $"The file '{tokens[i + 1]}' is empty.");
            list.Add(new AddressedFile(address, tokens[i + 1], path, data));
        }
        var sorted = list.OrderBy(f => f.Address).ToList();
        for (int i = 1; i < sorted.Count; i++)
        {
            if (sorted[i].Address < sorted[i - 1].End)
                throw new UsageException(EspErrorCode.OverlappingRegions,
                    $"'{sorted[i - 1].Name}' (0x{sorted[i - 1].Address:x8}..0x{sorted[i - 1].End:x8}) overlaps '{sorted[i].Name}' at 0x{sorted[i].Address:x8}.");
        }
        return list;
    }

    /// <summary>Erases the whole chip: ERASE_FLASH through a stub, or FLASH_BEGIN over the whole size on the ROM loader.</summary>
    internal static async Task EraseAllAsync(CliContext ctx, EspSession session)
    {
        ctx.Output.Line("Erasing flash (this may take a while)...");
        var sw = Stopwatch.StartNew();
        if (session.Loader.CanEraseChip)
        {
            await ctx.Output.WithProgressAsync("erase", p => Done(FlashEraser.EraseAllAsync(session, p, ctx.CancellationToken)), 0).ConfigureAwait(false);
        }
        else
        {
            await session.EnsureFlashAttachedAsync(ctx.CancellationToken).ConfigureAwait(false);
            if (session.FlashSize is not { } size)
                throw new EspException(EspErrorCode.UnsupportedCommand, "The ROM loader cannot erase the whole flash and the flash size is unknown.",
                    "Run with the flasher stub (leave out --no-stub), or erase a region with erase_region.");
            await ctx.Output.WithProgressAsync("erase",
                p => Done(FlashEraser.EraseRegionAsync(session, 0, (uint)size, p, ctx.CancellationToken)), 0).ConfigureAwait(false);
        }
        ctx.Output.Markup($"[green]Chip erase completed successfully[/] in {sw.Elapsed.TotalSeconds:0.0} s.");
        ctx.Output.Completed.Add("erased the whole flash");
    }

    private static async Task<bool> Done(Task t)
    {
        await t.ConfigureAwait(false);
        return true;
    }

    private static CliCommand ReadFlash()
    {
        var address = Arg("address", "Flash address to start at.");
        var size = Arg("size", "Bytes to read (4096, 0x1000, 1M) or ALL for the whole flash.");
        var file = Arg("file", "File to write the data to.");
        var noProgress = Option<bool>("--no-progress", "Show no progress: no bars on a terminal, no progress lines otherwise.");
        var cmd = Define("read_flash", "Read flash contents into a file.", address, size, file, noProgress);
        return new CliCommand
        {
            Name = "read_flash",
            Usage = "<address> <size|ALL> <file>",
            Command = cmd,
            Run = async ctx =>
            {
                ctx.Output.ProgressEnabled = !ctx.Value(noProgress);
                uint addr = Numbers.ParseUInt(ctx.Value(address), "address");
                var sizeText = ctx.Value(size);
                bool all = string.Equals(sizeText, "all", StringComparison.OrdinalIgnoreCase);
                uint length = all ? 0 : Numbers.ParseSize(sizeText, "size");
                var path = ctx.OutputFile(ctx.Value(file));
                return await ctx.WithSessionAsync(async session =>
                {
                    if (all)
                    {
                        await session.EnsureFlashAttachedAsync(ctx.CancellationToken).ConfigureAwait(false);
                        if (session.FlashSize is not { } fs)
                            throw new EspException(EspErrorCode.InvalidArgument, "The flash size could not be detected, so ALL cannot be used.", "Give the size explicitly.");
                        length = (uint)fs - addr;
                    }
                    var sw = Stopwatch.StartNew();
                    var data = await ctx.Output.WithProgressAsync("read",
                        p => FlashReader.ReadAsync(session, addr, (int)length, p, ctx.CancellationToken), addr).ConfigureAwait(false);
                    await File.WriteAllBytesAsync(path, data, ctx.CancellationToken).ConfigureAwait(false);
                    ctx.Output.Markup($"Read {data.Length} bytes at 0x{addr:x8} in {sw.Elapsed.TotalSeconds:0.0} s ({data.Length * 8 / 1000.0 / Math.Max(1e-9, sw.Elapsed.TotalSeconds):0.0} kbit/s) to {Spectre.Console.Markup.Escape(ctx.Value(file)!)}.");
                    ctx.Output.Completed.Add($"read {data.Length} bytes");
                    return new JsonObject
                    {
                        ["address"] = addr,
                        ["size"] = data.Length,
                        ["file"] = path,
                        ["md5"] = FlashMd5.Of(data),
                        ["seconds"] = Math.Round(sw.Elapsed.TotalSeconds, 3),
                    };
                }).ConfigureAwait(false);
            },
        };
    }

    private static CliCommand VerifyFlash()
    {
        var pairs = new Argument<string[]>("address-file") { Description = "Address and file, repeated.", Arity = ArgumentArity.OneOrMore };
        var diff = Option<string?>("--diff", "On a mismatch, read the flash back and show which ranges differ: yes or no (a bare --diff means yes).");
        var flashMode = Option<string?>("--flash-mode", "The flash mode write_flash set in a bootloader image's header (keep, qio, qout, dio, dout).", "-fm");
        var flashFreq = Option<string?>("--flash-freq", "The flash frequency write_flash set in a bootloader image's header.", "-ff");
        var flashSize = Option<string?>("--flash-size", "The flash size write_flash set in a bootloader image's header (keep, detect, 4MB, …).", "-fs");
        var cmd = Define("verify_flash", "Check that flash holds the given files (the chip's MD5; on a mismatch, the differing ranges).",
            pairs, diff, flashMode, flashFreq, flashSize);
        return new CliCommand
        {
            Name = "verify_flash",
            Usage = "[--diff yes|no] [--flash-mode M] [--flash-freq F] [--flash-size S] <address> <file> [<address> <file> ...]",
            Command = cmd,
            Run = async ctx =>
            {
                var diffText = ctx.Value(diff);
                bool showDiff = diffText is null ? false : diffText.ToLowerInvariant() switch
                {
                    "yes" or "true" => true,
                    "no" or "false" => false,
                    _ => throw UsageException.Invalid($"'{diffText}' is not a valid value for --diff; use yes or no."),
                };
                var files = Pairs(ctx, ctx.Value(pairs), "verify_flash");
                var header = FileComposition.Header(ctx.Value(flashMode), ctx.Value(flashFreq), ctx.Value(flashSize));
                return await ctx.WithSessionAsync(async session =>
                {
                    var results = new JsonArray();
                    int failures = 0;
                    // Compare with what write_flash wrote: the same header patch at the bootloader address.
                    var composed = await FileComposition.ComposeAsync(session, files, header, ctx.Output, ctx.CancellationToken).ConfigureAwait(false);
                    foreach (var f in composed.Images)
                    {
                        ctx.Output.Line($"Verifying 0x{f.Data.Length:x} ({f.Data.Length}) bytes at 0x{f.Address:x8} in flash against {f.Name}...");
                        var r = await ctx.Output.WithProgressAsync(f.Name,
                            p => FlashVerifier.VerifyAsync(session, f.Address, f.Data, showDiff, p, ctx.CancellationToken), f.Address).ConfigureAwait(false);
                        var ranges = new JsonArray();
                        foreach (var d in r.Differences)
                        {
                            ranges.Add(new JsonObject
                            {
                                ["address"] = d.Address,
                                ["end"] = d.Address + (uint)d.Length,
                                ["length"] = d.Length,
                                ["flash"] = Convert.ToHexStringLower(d.FlashBytes),
                                ["file"] = Convert.ToHexStringLower(d.FileBytes),
                            });
                        }
                        if (r.Matched)
                        {
                            ctx.Output.Markup("-- [green]verify OK[/] (digest matched)");
                        }
                        else
                        {
                            failures++;
                            ctx.Output.Markup($"-- [red]verify FAILED[/]: flash MD5 {r.FlashMd5}, file MD5 {r.ExpectedMd5}");
                            if (showDiff)
                            {
                                ctx.Output.Line($"   {r.Differences.Count} differing range{(r.Differences.Count == 1 ? "" : "s")}, {r.DifferentBytes} bytes in all:");
                                foreach (var line in DescribeDiff(r.Differences)) ctx.Output.Line("   " + line);
                            }
                        }
                        results.Add(new JsonObject
                        {
                            ["address"] = f.Address,
                            ["file"] = f.Name,
                            ["size"] = f.Data.Length,
                            ["matched"] = r.Matched,
                            ["flashMd5"] = r.FlashMd5,
                            ["fileMd5"] = r.ExpectedMd5,
                            ["differentBytes"] = showDiff && !r.Matched ? r.DifferentBytes : null,
                            ["differences"] = showDiff && !r.Matched ? ranges : null,
                        });
                        ctx.Output.Completed.Add($"verified {f.Name}");
                    }
                    var payload = new JsonObject { ["matched"] = failures == 0, ["files"] = results };
                    if (failures > 0)
                        throw new CommandFailedException(new EspException(EspErrorCode.VerifyMismatch,
                            failures == 1 && files.Count == 1 ? "Verify failed: the flash differs from the file."
                                : $"Verify failed: {failures} of {files.Count} files differ from the flash."), payload);
                    ctx.Output.Markup("[green]Verification successful[/] (digest matched).");
                    return payload;
                }).ConfigureAwait(false);
            },
        };
    }

    /// <summary>One line per differing range (ranges, not bytes), with the first bytes of each side; long lists are cut.</summary>
    internal static IEnumerable<string> DescribeDiff(IReadOnlyList<DiffRange> ranges, int max = 32)
    {
        foreach (var d in ranges.Take(max))
        {
            string flash = string.Join(' ', d.FlashBytes.Select(b => b.ToString("x2")));
            string file = string.Join(' ', d.FileBytes.Select(b => b.ToString("x2")));
            string more = d.Length > d.FlashBytes.Length ? " …" : "";
            yield return $"0x{d.Address:x8}..0x{d.Address + (uint)d.Length - 1:x8} ({d.Length,6} byte{(d.Length == 1 ? "" : "s")}): flash {flash}{more} | file {file}{more}";
        }
        if (ranges.Count > max) yield return $"… and {ranges.Count - max} more ranges (use --json for all of them)";
    }

    private static CliCommand EraseFlash()
    {
        var force = Option<bool>("--force", "Accepted for esptool compatibility.");
        var cmd = Define("erase_flash", "Erase the whole flash.", force);
        return new CliCommand
        {
            Name = "erase_flash",
            Usage = "",
            Command = cmd,
            Run = ctx => ctx.WithSessionAsync(async session =>
            {
                await EraseAllAsync(ctx, session).ConfigureAwait(false);
                return new JsonObject { ["erased"] = true, ["flashSize"] = session.FlashSize };
            }),
        };
    }

    private static CliCommand EraseRegion()
    {
        var address = Arg("address", "Start address (a multiple of 4096).");
        var size = Arg("size", "Bytes to erase (a multiple of 4096: 4096, 0x10000, 64k).");
        var force = Option<bool>("--force", "Accepted for esptool compatibility.");
        var cmd = Define("erase_region", "Erase a region of flash (whole 4 KiB sectors).", address, size, force);
        return new CliCommand
        {
            Name = "erase_region",
            Usage = "<address> <size>",
            Command = cmd,
            Run = async ctx =>
            {
                uint addr = Numbers.ParseUInt(ctx.Value(address), "address");
                uint length = Numbers.ParseSize(ctx.Value(size), "size");
                return await ctx.WithSessionAsync(async session =>
                {
                    ctx.Output.Line($"Erasing region 0x{addr:x8}..0x{addr + length:x8} ({length} bytes)...");
                    var sw = Stopwatch.StartNew();
                    await ctx.Output.WithProgressAsync("erase",
                        p => Done(FlashEraser.EraseRegionAsync(session, addr, length, p, ctx.CancellationToken)), addr).ConfigureAwait(false);
                    ctx.Output.Markup($"[green]Erase completed successfully[/] in {sw.Elapsed.TotalSeconds:0.0} s.");
                    ctx.Output.Completed.Add($"erased 0x{addr:x8}..0x{addr + length:x8}");
                    return new JsonObject { ["address"] = addr, ["size"] = length };
                }).ConfigureAwait(false);
            },
        };
    }
}
