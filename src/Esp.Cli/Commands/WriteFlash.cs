using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Esp.Protocol.Errors;
using Esp.Protocol.Loader;
using Esp.Protocol.Operations;
using static Esp.Cli.CliCommand;

namespace Esp.Cli.Commands;

/// <summary>
/// write_flash: compose the files, check the guards, write each one and check it with the chip's MD5. With
/// --skip-unchanged (and when resuming after a dropped link) the files are planned against the chip's MD5s as Deploy
/// does, and only the 4 KiB sectors that differ are written.
/// </summary>
internal static class WriteFlash
{
    public static CliCommand Create()
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
        var skipUnchanged = Option<bool>("--skip-unchanged", "Compare with the chip's MD5s first and write only the 4 KiB sectors that differ (as Deploy does).");
        var force = Option<bool>("--force", "Write even when a guard finds a problem (wrong chip, revision, flash size, partition, security state).");
        var chipRev = Option<string?>("--chip-rev", "Required chip revision range, e.g. [3.0,) or [1.0,3.99].");
        var noProgress = Option<bool>("--no-progress", "Show no progress: no bars on a terminal, no progress lines otherwise.");
        var noResume = Option<bool>("--no-resume", "Stop at a dropped link instead of reconnecting and writing what is still missing.");
        var portWait = Option<string?>("--port-wait", "Seconds a resume waits for the port to come back (default 10).");
        var cmd = Define("write_flash", "Write files to flash (each checked with the chip's MD5 afterwards).",
            pairs, eraseAll, compress, noCompress, flashMode, flashFreq, flashSize, verify, noVerify, skipUnchanged, force, chipRev, noProgress, noResume, portWait);
        return new CliCommand
        {
            Name = "write_flash",
            Usage = "[--erase-all] [-z|-u] [--flash-mode M] [--flash-freq F] [--flash-size S] [--skip-unchanged] [--force] [--chip-rev RANGE] [--no-resume] [--port-wait S] <address> <file> [<address> <file> ...]",
            Command = cmd,
            Run = async ctx =>
            {
                ctx.Output.ProgressEnabled = !ctx.Value(noProgress);
                var files = FlashCommands.Pairs(ctx, ctx.Value(pairs), "write_flash");
                if (ctx.Value(compress) && ctx.Value(noCompress))
                    throw UsageException.Invalid("--compress and --no-compress exclude each other.");
                bool skip = ctx.Value(skipUnchanged);
                if (skip && ctx.Value(eraseAll))
                    throw UsageException.Invalid("--skip-unchanged and --erase-all exclude each other: after an erase nothing is unchanged.");
                if (skip && ctx.Value(noVerify))
                    throw UsageException.Invalid("--skip-unchanged and --no-verify exclude each other: skipping relies on the chip's MD5.");
                bool? comp = ctx.Value(compress) ? true : ctx.Value(noCompress) ? false : null;
                var header = FileComposition.Header(ctx.Value(flashMode), ctx.Value(flashFreq), ctx.Value(flashSize));
                var writeOptions = new FlashWriteOptions { Compress = comp, Verify = !ctx.Value(noVerify), SharedCompression = ctx.Compression };
                var guardOptions = new GuardOptions { Force = ctx.Value(force), ChipRevisionRange = ctx.Value(chipRev) };
                if (guardOptions.ChipRevisionRange is { Length: > 0 } range)
                {
                    try { DeployGuards.ParseRevisionRange(range); }
                    catch (EspException ex) { throw new UsageException(ex.Code, ex.Message); }
                }
                var resume = ResumeSettings(ctx.Value(noResume), ctx.Value(portWait));
                var done = new Dictionary<string, JsonObject>();
                // One per file across sessions: it keeps what a resume needs from the first write (the sector head).
                var writes = new Dictionary<string, ResumableWrite>();
                ResumableWrite WriteOf(DeployImage f) => writes.TryGetValue(Key(f), out var w) ? w : writes[Key(f)] = new ResumableWrite(f, writeOptions);
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
                        await FlashCommands.EraseAllAsync(ctx, session).ConfigureAwait(false);
                    }
                    var pending = composed.Images.Where(f => !done.ContainsKey(Key(f))).ToList();
                    if (attempt.IsResume && !ctx.Value(eraseAll))
                    {
                        foreach (var f in pending)
                            done[Key(f)] = await ResumeFileAsync(ctx, session, WriteOf(f), comp, $"resumed after {attempt.After?.CodeText}").ConfigureAwait(false);
                    }
                    else if (skip)
                    {
                        // One plan for all files: their whole-image MD5s go out together.
                        var results = await DeployFileAsync(ctx, session, pending, comp).ConfigureAwait(false);
                        for (int i = 0; i < pending.Count; i++) done[Key(pending[i])] = results[i];
                    }
                    else
                    {
                        foreach (var f in pending) done[Key(f)] = await WriteFileAsync(ctx, session, WriteOf(f)).ConfigureAwait(false);
                    }
                    return new JsonObject
                    {
                        ["erasedAll"] = ctx.Value(eraseAll),
                        ["skipUnchanged"] = skip,
                        ["files"] = new JsonArray([.. composed.Images.Select(f => done[Key(f)].DeepClone())]),
                    };
                }).ConfigureAwait(false);
            },
        };
    }

    private static string Key(DeployImage f) => $"{f.Address:x8}:{f.Name}";

    private static ResumeOptions ResumeSettings(bool noResume, string? portWait)
    {
        var resume = new ResumeOptions();
        if (noResume) return resume with { Attempts = 1 };
        if (portWait is null) return resume;
        if (!double.TryParse(portWait, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) || seconds < 0 || seconds > 3600)
            throw UsageException.Invalid($"--port-wait '{portWait}' is not a number of seconds between 0 and 3600.");
        return resume with { PortWait = TimeSpan.FromSeconds(seconds) };
    }

    private static async Task<JsonObject> WriteFileAsync(CliContext ctx, EspSession session, ResumableWrite write)
    {
        var f = write.Image;
        ctx.Output.Line($"Writing {f.Data.Length} bytes at 0x{f.Address:x8} from {f.Name}...");
        var r = await ctx.Output.WithProgressAsync(f.Name, p => write.WriteAsync(session, p, ctx.CancellationToken), f.Address).ConfigureAwait(false);
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

    /// <summary>
    /// Plans <paramref name="images"/> against the chip's MD5s, rewrites only the sectors that differ and verifies every
    /// image (the engine's <see cref="Deployer"/>).
    /// </summary>
    private static async Task<List<JsonObject>> DeployFileAsync(CliContext ctx, EspSession session, IReadOnlyList<DeployImage> images, bool? compress)
    {
        if (images.Count == 0) return [];
        foreach (var f in images)
            ctx.Output.Line($"Comparing {f.Name} at 0x{f.Address:x8} with the chip...");
        var sw = Stopwatch.StartNew();
        var r = await ctx.Output.WithProgressAsync(images.Count == 1 ? images[0].Name : "files",
            p => Deployer.DeployAsync(session, images, new DeployOptions { Compress = compress, SharedCompression = ctx.Compression }, p, ctx.CancellationToken)).ConfigureAwait(false);
        var results = new List<JsonObject>();
        foreach (var (f, image) in images.Zip(r.Images))
        {
            bool unchanged = image.Action == DeployAction.Skip;
            var name = Spectre.Console.Markup.Escape(f.Name);
            ctx.Output.Markup(unchanged ? $"{name} at 0x{f.Address:x8}: [green]unchanged[/] (the chip's MD5 matches), nothing written."
                : $"{name} at 0x{f.Address:x8}: rewrote {image.BytesWritten} of {image.Length} bytes in {Ranges(image.WrittenRanges.Count)}.");
            if (image.Verified && !unchanged) ctx.Output.Markup($"[green]Hash of data verified[/] (MD5 {image.Md5}).");
            ctx.Output.Completed.Add(unchanged ? $"{f.Name} unchanged" : $"wrote {f.Name} at 0x{f.Address:x8}");
            var json = new JsonObject
            {
                ["address"] = f.Address,
                ["file"] = f.Name,
                ["size"] = image.Length,
                ["unchanged"] = unchanged,
                ["rewrittenBytes"] = image.BytesWritten,
                ["rewrittenRanges"] = new JsonArray([.. image.WrittenRanges.Select(w => (JsonNode?)new JsonObject { ["address"] = w.Address, ["length"] = w.Length })]),
                ["verified"] = image.Verified,
                ["md5"] = image.Md5,
                ["seconds"] = Math.Round(sw.Elapsed.TotalSeconds, 3),
            };
            results.Add(json);
        }
        return results;
    }

    /// <summary>After a dropped link: compare sector MD5s, rewrite only what differs, verify the whole file (<see cref="ResumableWrite"/>).</summary>
    private static async Task<JsonObject> ResumeFileAsync(CliContext ctx, EspSession session, ResumableWrite write, bool? compress, string resumedAfter)
    {
        var f = write.Image;
        ctx.Output.Line($"Resuming {f.Name} at 0x{f.Address:x8}: comparing with the chip...");
        var sw = Stopwatch.StartNew();
        var image = await ctx.Output.WithProgressAsync(f.Name, p => write.ResumeAsync(session, compress, p, ctx.CancellationToken)).ConfigureAwait(false);
        ctx.Output.Markup($"Resumed {Spectre.Console.Markup.Escape(f.Name)}: rewrote {image.BytesWritten} of {image.Length} bytes in {Ranges(image.WrittenRanges.Count)}.");
        if (image.Verified) ctx.Output.Markup($"[green]Hash of data verified[/] (MD5 {image.Md5}).");
        ctx.Output.Completed.Add($"wrote {f.Name} at 0x{f.Address:x8} ({resumedAfter})");
        return new JsonObject
        {
            ["address"] = f.Address,
            ["file"] = f.Name,
            ["size"] = image.Length,
            ["unchanged"] = image.BytesWritten == 0,
            ["resumed"] = true,
            ["rewrittenBytes"] = image.BytesWritten,
            ["rewrittenRanges"] = new JsonArray([.. image.WrittenRanges.Select(w => (JsonNode?)new JsonObject { ["address"] = w.Address, ["length"] = w.Length })]),
            ["verified"] = image.Verified,
            ["md5"] = image.Md5,
            ["seconds"] = Math.Round(sw.Elapsed.TotalSeconds, 3),
        };
    }

    private static string Ranges(int n) => n == 1 ? "1 range" : $"{n} ranges";
}
