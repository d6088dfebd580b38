using System.CommandLine;
using System.Diagnostics;
using System.Text.Json.Nodes;
using Esp.Protocol.Errors;
using Esp.Protocol.Loader;
using Esp.Protocol.Operations;
using static Esp.Cli.CliCommand;

namespace Esp.Cli.Commands;

/// <summary>write_flash, read_flash, verify_flash, erase_flash, erase_region.</summary>
internal static class FlashCommands
{
    public static IEnumerable<CliCommand> Create() => [WriteFlash(), ReadFlash(), VerifyFlash(), EraseFlash(), EraseRegion()];

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

    private static CliCommand WriteFlash()
    {
        var pairs = new Argument<string[]>("address-file") { Description = "Address and file, repeated: 0x1000 bootloader.bin 0x10000 app.bin", Arity = ArgumentArity.OneOrMore };
        var eraseAll = Option<bool>("--erase-all", "Erase the whole flash before writing.", "-e");
        var compress = Option<bool>("--compress", "Always send compressed data (needs a stub or a ROM that inflates).", "-z");
        var noCompress = Option<bool>("--no-compress", "Send data uncompressed.", "-u");
        var flashMode = Option<string?>("--flash-mode", "Set the flash mode in a bootloader image's header: keep, qio, qout, dio, dout.", "-fm");
        var flashFreq = Option<string?>("--flash-freq", "Set the flash frequency in a bootloader image's header: keep, 80m, 40m, …", "-ff");
        var flashSize = Option<string?>("--flash-size", "Set the flash size in a bootloader image's header: keep, detect, 4MB, …", "-fs");
        var verify = Option<bool>("--verify", "Accepted for esptool compatibility: every write is checked with the chip's MD5 anyway.");
        var noVerify = Option<bool>("--no-verify", "Skip the MD5 check after writing (needed for ROM loaders that cannot hash).");
        var force = Option<bool>("--force", "Write even when a guard finds a problem (wrong chip, revision, flash size, partition, security state).");
        var chipRev = Option<string?>("--chip-rev", "Required chip revision range, e.g. [3.0,) or [1.0,3.99].");
        var noProgress = Option<bool>("--no-progress", "Do not draw progress bars.");
        var noResume = Option<bool>("--no-resume", "Stop at a dropped link instead of reconnecting and writing what is still missing.");
        var portWait = Option<string?>("--port-wait", "Seconds a resume waits for the port to come back (default 10).");
        var cmd = Define("write_flash", "Write files to flash (each checked with the chip's MD5 afterwards).",
            pairs, eraseAll, compress, noCompress, flashMode, flashFreq, flashSize, verify, noVerify, force, chipRev, noProgress, noResume, portWait);
        return new CliCommand
        {
            Name = "write_flash",
            Usage = "[--erase-all] [-z|-u] [--flash-mode M] [--flash-freq F] [--flash-size S] [--force] [--chip-rev RANGE] [--no-resume] [--port-wait S] <address> <file> [<address> <file> ...]",
            Command = cmd,
            Run = async ctx =>
            {
                var files = Pairs(ctx, ctx.Value(pairs), "write_flash");
                if (ctx.Value(compress) && ctx.Value(noCompress))
                    throw UsageException.Invalid("--compress and --no-compress exclude each other.");
                bool? comp = ctx.Value(compress) ? true : ctx.Value(noCompress) ? false : null;
                var header = FileComposition.Header(ctx.Value(flashMode), ctx.Value(flashFreq), ctx.Value(flashSize));
                var writeOptions = new FlashWriteOptions { Compress = comp, Verify = !ctx.Value(noVerify) };
                var guardOptions = new GuardOptions { Force = ctx.Value(force), ChipRevisionRange = ctx.Value(chipRev) };
                if (guardOptions.ChipRevisionRange is { Length: > 0 } range)
                {
                    try { DeployGuards.ParseRevisionRange(range); }
                    catch (EspException ex) { throw new UsageException(ex.Code, ex.Message); }
                }
                var resume = ResumeSettings(ctx.Value(noResume), ctx.Value(portWait));
                var done = new Dictionary<string, JsonObject>();
                var writes = new Dictionary<string, ResumableWrite>();
                return await ctx.WithResumableSessionAsync(resume, async (session, attempt) =>
                {
                    // The guards look at exactly what will be written, before anything is erased.
                    var composed = await FileComposition.ComposeAsync(session, files, header, ctx.Output, ctx.CancellationToken).ConfigureAwait(false);
                    foreach (var finding in await DeployGuards.CheckAsync(session, composed, guardOptions, ctx.CancellationToken).ConfigureAwait(false))
                        ctx.Output.Warning($"{finding.CodeText}: {finding.Message} (ignored: --force)");
                    if (ctx.Value(eraseAll))
                    {
                        // An erase that may not have finished is done again, and everything after it with it.
                        done.Clear();
                        await EraseAllAsync(ctx, session).ConfigureAwait(false);
                    }
                    foreach (var f in composed.Images)
                    {
                        string key = $"{f.Address:x8}:{f.Name}";
                        if (done.ContainsKey(key)) continue;
                        // One per file across sessions: it keeps what a resume needs from the first write.
                        if (!writes.TryGetValue(key, out var write)) writes[key] = write = new ResumableWrite(f, writeOptions);
                        done[key] = attempt.IsResume && !ctx.Value(eraseAll)
                            ? await ResumeFileAsync(ctx, session, write, comp, attempt).ConfigureAwait(false)
                            : await WriteFileAsync(ctx, session, write).ConfigureAwait(false);
                    }
                    return new JsonObject { ["erasedAll"] = ctx.Value(eraseAll), ["files"] = new JsonArray([.. done.Values.Select(v => v.DeepClone())]) };
                }).ConfigureAwait(false);
            },
        };
    }

    private static ResumeOptions ResumeSettings(bool noResume, string? portWait)
    {
        var resume = new ResumeOptions();
        if (noResume) return resume with { Attempts = 1 };
        if (portWait is null) return resume;
        if (!double.TryParse(portWait, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var seconds)
            || seconds < 0 || seconds > 3600)
            throw UsageException.Invalid($"--port-wait '{portWait}' is not a number of seconds between 0 and 3600.");
        return resume with { PortWait = TimeSpan.FromSeconds(seconds) };
    }

    private static async Task<JsonObject> WriteFileAsync(CliContext ctx, EspSession session, ResumableWrite write)
    {
        var f = write.Image;
        ctx.Output.Line($"Writing {f.Data.Length} bytes at 0x{f.Address:x8} from {f.Name}...");
        var r = await ctx.Output.WithProgressAsync(f.Name, p => write.WriteAsync(session, p, ctx.CancellationToken)).ConfigureAwait(false);
        ctx.Output.Markup($"Wrote {r.Length} bytes{(r.Compressed ? $" ({r.WireBytes} on the wire, compressed)" : "")} at 0x{r.Address:x8} in {r.Elapsed.TotalSeconds:0.0} s ({r.Rate * 8 / 1000:0.0} kbit/s).");
        if (r.Verified) ctx.Output.Markup($"[green]Hash of data verified[/] (MD5 {r.Md5}).");
        ctx.Output.Completed.Add($"wrote {f.Name} at 0x{f.Address:x8}");
        return new JsonObject
        {
            ["address"] = f.Address,
            ["file"] = f.Name,
            ["size"] = r.Length,
            ["wireBytes"] = r.WireBytes,
            ["compressed"] = r.Compressed,
            ["verified"] = r.Verified,
            ["md5"] = r.Md5,
            ["seconds"] = Math.Round(r.Elapsed.TotalSeconds, 3),
        };
    }

    /// <summary>After a dropped link: compare sector MD5s, rewrite only what differs, verify the whole file.</summary>
    private static async Task<JsonObject> ResumeFileAsync(CliContext ctx, EspSession session, ResumableWrite write, bool? compress, ResumeAttempt attempt)
    {
        var f = write.Image;
        ctx.Output.Line($"Resuming {f.Name} at 0x{f.Address:x8}: comparing with the chip...");
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var image = await ctx.Output.WithProgressAsync(f.Name, p => write.ResumeAsync(session, compress, p, ctx.CancellationToken)).ConfigureAwait(false);
        ctx.Output.Markup($"Resumed {f.Name}: rewrote {image.BytesWritten} of {image.Length} bytes in {image.WrittenRanges.Count} range(s).");
        if (image.Verified) ctx.Output.Markup($"[green]Hash of data verified[/] (MD5 {image.Md5}).");
        ctx.Output.Completed.Add($"wrote {f.Name} at 0x{f.Address:x8} (resumed after {attempt.After?.CodeText})");
        return new JsonObject
        {
            ["address"] = f.Address,
            ["file"] = f.Name,
            ["size"] = image.Length,
            ["resumed"] = true,
            ["rewrittenBytes"] = image.BytesWritten,
            ["verified"] = image.Verified,
            ["md5"] = image.Md5,
            ["seconds"] = Math.Round(sw.Elapsed.TotalSeconds, 3),
        };
    }

    /// <summary>Erases the whole chip: ERASE_FLASH through a stub, or FLASH_BEGIN over the whole size on the ROM loader.</summary>
    internal static async Task EraseAllAsync(CliContext ctx, EspSession session)
    {
        ctx.Output.Line("Erasing flash (this may take a while)...");
        var sw = Stopwatch.StartNew();
        if (session.Loader.CanEraseChip)
        {
            await ctx.Output.WithProgressAsync("erase", p => Done(FlashEraser.EraseAllAsync(session, p, ctx.CancellationToken))).ConfigureAwait(false);
        }
        else
        {
            await session.EnsureFlashAttachedAsync(ctx.CancellationToken).ConfigureAwait(false);
            if (session.FlashSize is not { } size)
                throw new EspException(EspErrorCode.UnsupportedCommand, "The ROM loader cannot erase the whole flash and the flash size is unknown.",
                    "Run with the flasher stub (leave out --no-stub), or erase a region with erase_region.");
            await ctx.Output.WithProgressAsync("erase",
                p => Done(FlashEraser.EraseRegionAsync(session, 0, (uint)size, p, ctx.CancellationToken))).ConfigureAwait(false);
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
        var noProgress = Option<bool>("--no-progress", "Do not draw progress bars.");
        var cmd = Define("read_flash", "Read flash contents into a file.", address, size, file, noProgress);
        return new CliCommand
        {
            Name = "read_flash",
            Usage = "<address> <size|ALL> <file>",
            Command = cmd,
            Run = async ctx =>
            {
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
                        p => FlashReader.ReadAsync(session, addr, (int)length, p, ctx.CancellationToken)).ConfigureAwait(false);
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
                            p => FlashVerifier.VerifyAsync(session, f.Address, f.Data, showDiff, p, ctx.CancellationToken)).ConfigureAwait(false);
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
                        p => Done(FlashEraser.EraseRegionAsync(session, addr, length, p, ctx.CancellationToken))).ConfigureAwait(false);
                    ctx.Output.Markup($"[green]Erase completed successfully[/] in {sw.Elapsed.TotalSeconds:0.0} s.");
                    ctx.Output.Completed.Add($"erased 0x{addr:x8}..0x{addr + length:x8}");
                    return new JsonObject { ["address"] = addr, ["size"] = length };
                }).ConfigureAwait(false);
            },
        };
    }
}
