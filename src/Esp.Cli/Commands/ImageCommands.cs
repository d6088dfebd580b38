using System.CommandLine;
using System.Text.Json.Nodes;
using Esp.Protocol.Chips;
using Esp.Protocol.Errors;
using Esp.Protocol.Images;
using static Esp.Cli.CliCommand;

namespace Esp.Cli.Commands;

/// <summary>image_info, merge_bin, elf2image (host-only: no chip needed).</summary>
internal static class ImageCommands
{
    public static IEnumerable<CliCommand> Create() => [ImageInfoCommand(), MergeBinCommand(), Elf2Image()];

    /// <summary>The chip named with --chip / ESPTOOL_CHIP, or null for auto.</summary>
    private static ChipDefinition? NamedChip(CliContext ctx)
    {
        var key = ctx.Settings.Chip;
        return key == "auto" ? null : ChipDatabase.Get(key);
    }

    private static ChipDefinition RequiredChip(CliContext ctx, string command) =>
        NamedChip(ctx) ?? throw UsageException.Invalid($"{command} needs the chip type: pass --chip (e.g. --chip esp32).");

    private static CliCommand ImageInfoCommand()
    {
        var file = Arg("file", "An ESP image (.bin).");
        var version = Option<string?>("--version", "Accepted for esptool v4 compatibility (the detailed view is always shown).");
        return new CliCommand
        {
            Name = "image_info",
            Usage = "<file>",
            Command = Define("image_info", "Describe an ESP application or bootloader image: header, segments, checksum, hash.", file, version),
            Run = ctx =>
            {
                var data = ctx.ReadInputFile(ctx.Value(file));
                var chip = NamedChip(ctx);
                var image = EspImage.Parse(data, chip);
                chip ??= image.Format == ImageFormat.Esp32 ? ChipDatabase.ByImageChipId(image.ChipId) : ChipDatabase.Esp8266;
                ctx.Output.Line($"File size: {data.Length} bytes");
                ctx.Output.Line(ImageInfo.Describe(image, chip).TrimEnd('\n'));
                foreach (var w in image.Warnings) ctx.Output.Warning(w);
                var segments = new JsonArray();
                foreach (var s in image.Segments)
                {
                    segments.Add(new JsonObject
                    {
                        ["address"] = s.Address,
                        ["size"] = s.Data.Length,
                        ["fileOffset"] = s.FileOffset,
                        ["regions"] = ImageInfo.RegionNames(chip, s),
                    });
                }
                bool valid = image.ChecksumValid && image.Sha256Valid != false && image.CrcValid != false;
                var payload = new JsonObject
                {
                    ["file"] = ctx.Value(file),
                    ["fileSize"] = data.Length,
                    ["chip"] = chip?.Key,
                    ["format"] = image.Format.ToString(),
                    ["entry"] = image.Entry,
                    ["flashMode"] = image.FlashMode.ToString().ToLowerInvariant(),
                    ["flashSize"] = chip is null ? null : image.FlashSizeName(chip),
                    ["flashFreq"] = chip is null ? null : image.FlashFrequencyName(chip),
                    ["chipId"] = image.Format == ImageFormat.Esp32 ? image.ChipId : null,
                    ["minRevFull"] = image.MinRevFull,
                    ["maxRevFull"] = image.MaxRevFull,
                    ["segments"] = segments,
                    ["checksumValid"] = image.ChecksumValid,
                    ["sha256Valid"] = image.Sha256Valid,
                    ["imageSize"] = image.ImageLength,
                    ["valid"] = valid,
                    ["warnings"] = new JsonArray(image.Warnings.Select(w => (JsonNode?)JsonValue.Create(w)).ToArray()),
                };
                if (!valid)
                    throw new CommandFailedException(new EspException(EspErrorCode.ImageChecksumMismatch,
                        $"The image '{ctx.Value(file)}' is damaged: its {(image.ChecksumValid ? "hash" : "checksum")} does not match its contents."), payload);
                return Task.FromResult(payload);
            },
        };
    }

    private static CliCommand MergeBinCommand()
    {
        var pairs = new Argument<string[]>("address-file") { Description = "Address and file, repeated.", Arity = ArgumentArity.OneOrMore };
        var output = Option<string?>("--output", "File to write (required).", "-o");
        var format = Option<string?>("--format", "raw (default) or hex (Intel HEX).", "-f");
        var targetOffset = Option<string?>("--target-offset", "Flash address of the first byte of a raw output (default 0).", "-t");
        var fillFlashSize = Option<string?>("--fill-flash-size", "Pad a raw output with 0xFF up to this size (e.g. 4MB).");
        var pad = Option<string?>("--pad-to-size", "Same as --fill-flash-size (esptool v5 spelling).");
        var flashMode = Option<string?>("--flash-mode", "Flash mode for the bootloader header: keep, qio, qout, dio, dout.", "-fm");
        var flashFreq = Option<string?>("--flash-freq", "Flash frequency for the bootloader header: keep, 80m, 40m, …", "-ff");
        var flashSize = Option<string?>("--flash-size", "Flash size for the bootloader header: keep, 4MB, …", "-fs");
        return new CliCommand
        {
            Name = "merge_bin",
            Usage = "-o <output> [--format raw|hex] [--target-offset A] [--fill-flash-size S] <address> <file> [<address> <file> ...]",
            Command = Define("merge_bin", "Merge several files into one image to flash at once (raw or Intel HEX).",
                pairs, output, format, targetOffset, fillFlashSize, pad, flashMode, flashFreq, flashSize),
            Run = async ctx =>
            {
                var outPath = ctx.OutputFile(ctx.Value(output) ?? throw UsageException.Invalid("merge_bin needs an output file: -o <file>."));
                var files = FlashCommands.Pairs(ctx, ctx.Value(pairs), "merge_bin");
                var fmt = (ctx.Value(format) ?? "raw").ToLowerInvariant();
                if (fmt is not ("raw" or "hex"))
                    throw UsageException.Invalid($"'{ctx.Value(format)}' is not a merge_bin format here; use raw or hex.");
                var fill = ctx.Value(fillFlashSize) ?? ctx.Value(pad);
                var options = new MergeOptions
                {
                    TargetOffset = ctx.Value(targetOffset) is { } t ? Numbers.ParseUInt(t, "target offset") : 0,
                    PadToSize = fill is null ? null : Numbers.ParseSize(fill, "flash size"),
                    Chip = NamedChip(ctx),
                    FlashMode = ctx.Value(flashMode),
                    FlashFrequency = ctx.Value(flashFreq),
                    FlashSize = ctx.Value(flashSize),
                };
                if (options.Chip is null && (!EspImage.IsKeep(options.FlashMode) || !EspImage.IsKeep(options.FlashFrequency) || !EspImage.IsKeep(options.FlashSize)))
                    throw UsageException.Invalid("Changing flash parameters needs the chip type: pass --chip.");
                var parts = files.Select(f => new ImagePart(f.Address, f.Data, f.Name)).ToList();
                long size;
                if (fmt == "hex")
                {
                    var text = MergeBin.ToIntelHex(parts, options);
                    await File.WriteAllTextAsync(outPath, text, ctx.CancellationToken).ConfigureAwait(false);
                    size = new FileInfo(outPath).Length;
                }
                else
                {
                    var raw = MergeBin.ToRaw(parts, options);
                    await File.WriteAllBytesAsync(outPath, raw, ctx.CancellationToken).ConfigureAwait(false);
                    size = raw.Length;
                }
                ctx.Output.Line($"Wrote {size} bytes to {ctx.Value(output)} ({fmt}), {files.Count} file{(files.Count == 1 ? "" : "s")} merged.");
                var list = new JsonArray();
                foreach (var f in files) list.Add(new JsonObject { ["address"] = f.Address, ["file"] = f.Name, ["size"] = f.Data.Length });
                return new JsonObject { ["output"] = outPath, ["format"] = fmt, ["size"] = size, ["files"] = list };
            },
        };
    }

    private static CliCommand Elf2Image()
    {
        var input = Arg("input", "ELF executable.");
        var output = Option<string?>("--output", "Output image file (default: the input name with .bin).", "-o");
        var version = Option<string?>("--version", "ESP8266 image version: 1 (default) or 2.");
        var flashMode = Option<string?>("--flash-mode", "Flash mode: qio (default), qout, dio, dout.", "-fm");
        var flashFreq = Option<string?>("--flash-freq", "Flash frequency (chip default when omitted).", "-ff");
        var flashSize = Option<string?>("--flash-size", "Flash size: 1MB (default), 2MB, 4MB, …", "-fs");
        var minRev = Option<string?>("--min-rev-full", "Minimum chip revision as major·100+minor (e.g. 300 = v3.0).");
        var maxRev = Option<string?>("--max-rev-full", "Maximum chip revision as major·100+minor.");
        var noDigest = Option<bool>("--dont-append-digest", "Do not append the SHA-256 of the image.");
        var useSegments = Option<bool>("--use-segments", "Read the ELF's program headers (PT_LOAD) instead of its sections.");
        return new CliCommand
        {
            Name = "elf2image",
            Usage = "[-o <output>] [--flash-mode M] [--flash-freq F] [--flash-size S] <input.elf>",
            Command = Define("elf2image", "Turn an ELF executable into an ESP image.", input, output, version, flashMode, flashFreq, flashSize, minRev, maxRev, noDigest, useSegments),
            Run = async ctx =>
            {
                var chip = RequiredChip(ctx, "elf2image");
                var elf = ctx.ReadInputFile(ctx.Value(input));
                var v = ctx.Value(version) ?? "1";
                if (v is not ("1" or "2")) throw UsageException.Invalid($"'{v}' is not an image version; use 1 or 2.");
                var options = new ElfToImageOptions
                {
                    FlashMode = ctx.Value(flashMode) ?? "qio",
                    FlashFrequency = ctx.Value(flashFreq),
                    FlashSize = ctx.Value(flashSize) ?? "1MB",
                    MinRevFull = ctx.Value(minRev) is { } mi ? (ushort)Numbers.ParseInt(mi, "revision", 0, 0xFFFF) : (ushort)0,
                    MaxRevFull = ctx.Value(maxRev) is { } ma ? (ushort)Numbers.ParseInt(ma, "revision", 0, 0xFFFF) : (ushort)0xFFFF,
                    AppendSha256 = !ctx.Value(noDigest),
                    UseSegments = ctx.Value(useSegments),
                    Esp8266Format = v == "2" ? ImageFormat.Esp8266V2 : ImageFormat.Esp8266V1,
                };
                var image = ElfToImage.Convert(elf, chip, options);
                var inputName = ctx.Value(input)!;
                var written = new JsonArray();
                if (chip.IsEsp8266 && image.Format == ImageFormat.Esp8266V1)
                {
                    // esptool writes <prefix>0x00000.bin and <prefix>0xNNNNN.bin (the IROM segment, flashed separately).
                    var prefix = ctx.Value(output) ?? Path.ChangeExtension(inputName, null) + "-";
                    var main = ctx.OutputFile(prefix + "0x00000.bin");
                    await File.WriteAllBytesAsync(main, image.ToBytes(), ctx.CancellationToken).ConfigureAwait(false);
                    written.Add(new JsonObject { ["file"] = main, ["address"] = 0 });
                    if (image.IromSegment is { } irom && image.Esp8266IromFlashOffset is { } off)
                    {
                        var iromPath = ctx.OutputFile($"{prefix}0x{off:x5}.bin");
                        await File.WriteAllBytesAsync(iromPath, irom.Data, ctx.CancellationToken).ConfigureAwait(false);
                        written.Add(new JsonObject { ["file"] = iromPath, ["address"] = off });
                    }
                }
                else
                {
                    var outPath = ctx.OutputFile(ctx.Value(output) ?? Path.ChangeExtension(inputName, ".bin"));
                    await File.WriteAllBytesAsync(outPath, image.ToBytes(), ctx.CancellationToken).ConfigureAwait(false);
                    written.Add(new JsonObject { ["file"] = outPath });
                }
                ctx.Output.Line($"Creating {chip.Name} image...");
                ctx.Output.Line($"Merged {image.Segments.Count} ELF section{(image.Segments.Count == 1 ? "" : "s")}; entry 0x{image.Entry:x8}.");
                foreach (var w in written) ctx.Output.Line($"Successfully created {chip.Name} image: {w!["file"]}");
                return new JsonObject { ["chip"] = chip.Key, ["entry"] = image.Entry, ["segments"] = image.Segments.Count, ["files"] = written };
            },
        };
    }
}
