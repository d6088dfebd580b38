using System.Text.Json.Nodes;
using Esp.Protocol.Errors;
using Esp.Protocol.Operations;
using static Esp.Cli.CliCommand;

namespace Esp.Cli.Commands;

/// <summary>read_flash_status, write_flash_status, read_flash_sfdp.</summary>
internal static class StatusCommands
{
    public static IEnumerable<CliCommand> Create() => [ReadStatus(), WriteStatus(), ReadSfdp()];

    private static System.CommandLine.Option<string?> BytesOption() =>
        Option<string?>("--bytes", "How many status bytes: 1 (SR1), 2 (SR1+SR2, default) or 3 (SR1..SR3).");

    private static int ParseBytes(CliContext ctx, System.CommandLine.Option<string?> option) =>
        ctx.Value(option) is { } t ? Numbers.ParseInt(t, "--bytes value", 1, 3) : 2;

    private static CliCommand ReadStatus()
    {
        var bytes = BytesOption();
        return new CliCommand
        {
            Name = "read_flash_status",
            Usage = "[--bytes 1|2|3]",
            Command = Define("read_flash_status", "Read the SPI flash status register(s) and decode the protection and quad-enable bits.", bytes),
            Run = async ctx =>
            {
                int n = ParseBytes(ctx, bytes);
                return await ctx.WithSessionAsync(async session =>
                {
                    uint value = await FlashStatus.ReadAsync(session, n, ctx.CancellationToken).ConfigureAwait(false);
                    ctx.Output.Line($"Status value: 0x{value.ToString($"x{n * 2}")} ({FlashStatus.Describe(value, n)})");
                    foreach (var line in StatusBits.Lines(value, n)) ctx.Output.Line("  " + line);
                    return StatusBits.Json(value, n);
                }).ConfigureAwait(false);
            },
        };
    }

    private static CliCommand WriteStatus()
    {
        var bytes = BytesOption();
        var nonVolatile = Option<bool>("--non-volatile", "Write the non-volatile bits (persist across power cycles; can lock the flash for good).");
        var yes = Option<bool>("--yes", "Confirm a --non-volatile write without asking (required when not on a terminal).", "-y");
        var value = Arg("value", "New status value (e.g. 0 or 0x0200).");
        return new CliCommand
        {
            Name = "write_flash_status",
            Usage = "[--bytes 1|2|3] [--non-volatile [--yes]] <value>",
            Command = Define("write_flash_status", "Write the SPI flash status register(s); volatile unless --non-volatile.", bytes, nonVolatile, yes, value),
            Run = async ctx =>
            {
                int n = ParseBytes(ctx, bytes);
                uint v = Numbers.ParseUInt(ctx.Value(value), "status value");
                uint mask = n >= 4 ? uint.MaxValue : (1u << (8 * n)) - 1;
                if ((v & ~mask) != 0)
                    throw new UsageException(EspErrorCode.InvalidNumber, $"0x{v:x} does not fit in {n} status byte{(n == 1 ? "" : "s")}.");
                bool nv = ctx.Value(nonVolatile);
                if (nv && !ctx.Value(yes)) Confirm(ctx, v, n);
                return await ctx.WithSessionAsync(async session =>
                {
                    var r = await FlashStatus.WriteAsync(session, v, n, nv, ctx.CancellationToken).ConfigureAwait(false);
                    string f = $"x{n * 2}";
                    ctx.Output.Line($"Initial flash status: 0x{r.Before.ToString(f)} ({FlashStatus.Describe(r.Before, n)})");
                    ctx.Output.Line($"Setting flash status: 0x{r.Requested.ToString(f)} ({(nv ? "non-volatile" : "volatile")})");
                    ctx.Output.Line($"After flash status:   0x{r.After.ToString(f)} ({FlashStatus.Describe(r.After, n)})");
                    foreach (var line in StatusBits.Lines(r.After, n)) ctx.Output.Line("  " + line);
                    var payload = new JsonObject
                    {
                        ["before"] = r.Before,
                        ["requested"] = r.Requested,
                        ["after"] = r.After,
                        ["bytes"] = n,
                        ["nonVolatile"] = nv,
                        ["applied"] = r.Applied,
                        ["decoded"] = StatusBits.Json(r.After, n),
                    };
                    if (!r.Applied)
                        throw new CommandFailedException(new EspException(EspErrorCode.FlashWriteProtected,
                            $"The status register reads 0x{r.After.ToString(f)} after writing 0x{r.Requested.ToString(f)}: the flash did not take the new value.",
                            "The status register may itself be protected (SRP bits with WP# low, or one-time locks); check the flash datasheet."), payload);
                    ctx.Output.Markup(nv ? "[yellow]Non-volatile status written.[/]" : "[green]Volatile status written[/] (lost at power-off).");
                    ctx.Output.Completed.Add("wrote the status register");
                    return payload;
                }).ConfigureAwait(false);
            },
        };
    }

    /// <summary>Non-volatile status bits can lock a flash chip for good: ask a person, or insist on --yes.</summary>
    private static void Confirm(CliContext ctx, uint value, int bytes)
    {
        if (!ctx.Host.IsInteractive || ctx.Host.Input is null || ctx.Output.Json)
            throw new UsageException(EspErrorCode.ConfirmationRequired,
                "Writing non-volatile status bits needs confirmation: they can lock the flash chip for good.",
                "Add --yes to confirm when running without a terminal.");
        ctx.Output.Markup($"[yellow]Warning:[/] writing 0x{value.ToString($"x{bytes * 2}")} to the NON-VOLATILE status register. Protection bits written this way survive power cycles and can lock the flash chip permanently.");
        ctx.Output.Line("Type 'yes' to continue: ");
        var answer = ctx.Host.Input.ReadLine()?.Trim();
        if (!string.Equals(answer, "yes", StringComparison.OrdinalIgnoreCase) && !string.Equals(answer, "y", StringComparison.OrdinalIgnoreCase))
            throw new UsageException(EspErrorCode.ConfirmationRequired, "Not confirmed; nothing was written.", "Answer 'yes' to write, or pass --yes.");
    }

    private static CliCommand ReadSfdp()
    {
        var address = Arg("address", "SFDP address (0 = the header).");
        var count = Arg("bytes", "How many bytes to read (1..4096).");
        return new CliCommand
        {
            Name = "read_flash_sfdp",
            Usage = "<address> <bytes>",
            Command = Define("read_flash_sfdp", "Read the flash's SFDP table (JESD216) and decode its header and basic parameters.", address, count),
            Run = async ctx =>
            {
                uint addr = Numbers.ParseUInt(ctx.Value(address), "SFDP address");
                int n = (int)Numbers.ParseSize(ctx.Value(count), "byte count");
                if (n is < 1 or > 4096) throw new UsageException(EspErrorCode.InvalidArgument, $"The byte count must be 1..4096 (got {n}).");
                return await ctx.WithSessionAsync(async session =>
                {
                    var data = await Sfdp.ReadAsync(session, addr, n, ctx.CancellationToken).ConfigureAwait(false);
                    ctx.Output.Line($"SFDP 0x{addr:x6}..0x{addr + (uint)n - 1:x6} ({n} bytes):");
                    ctx.Output.Line(Output.HexDump(data, addr));
                    var payload = new JsonObject { ["address"] = addr, ["size"] = n, ["data"] = Convert.ToHexStringLower(data) };
                    SfdpInfo? info = null;
                    try
                    {
                        (_, info) = await Sfdp.ReadTableAsync(session, ctx.CancellationToken).ConfigureAwait(false);
                    }
                    catch (EspException ex) when (ex.Code == EspErrorCode.InvalidSfdp)
                    {
                        ctx.Output.Line("No SFDP table (the signature \"SFDP\" is missing at address 0).");
                    }
                    if (info is not null)
                    {
                        ctx.Output.Line();
                        foreach (var line in DescribeSfdp(info)) ctx.Output.Line(line);
                        payload["decoded"] = SfdpJson(info);
                    }
                    return payload;
                }).ConfigureAwait(false);
            },
        };
    }

    internal static IEnumerable<string> DescribeSfdp(SfdpInfo info)
    {
        yield return $"SFDP header: signature \"SFDP\", revision {info.MajorRevision}.{info.MinorRevision}, {info.ParameterHeaders} parameter header{(info.ParameterHeaders == 1 ? "" : "s")}";
        yield return $"Basic flash parameter table: at 0x{info.BasicTableAddress:x}, {info.BasicTableDwords} DWORDs";
        if (info.DensityBytes is { } d)
            yield return $"  Density: {Numbers.FormatBytes(d)} ({info.DensityBits / 1024 / 1024} Mbit)";
        if (info.EraseTypes.Count > 0)
            yield return "  Erase types: " + string.Join(", ", info.EraseTypes.Select(e => $"{Numbers.FormatBytes(e.Size)} (opcode {e.Opcode:X2}h)"));
    }

    private static JsonObject SfdpJson(SfdpInfo info)
    {
        var erase = new JsonArray();
        foreach (var e in info.EraseTypes) erase.Add(new JsonObject { ["size"] = e.Size, ["opcode"] = e.Opcode });
        return new JsonObject
        {
            ["revision"] = $"{info.MajorRevision}.{info.MinorRevision}",
            ["parameterHeaders"] = info.ParameterHeaders,
            ["basicTableAddress"] = info.BasicTableAddress,
            ["basicTableDwords"] = info.BasicTableDwords,
            ["densityBits"] = info.DensityBits,
            ["densityBytes"] = info.DensityBytes,
            ["eraseTypes"] = erase,
        };
    }
}

/// <summary>The common SPI NOR status bits (Winbond / GigaDevice layout) spelt out next to the raw value.</summary>
internal static class StatusBits
{
    private static readonly string[] Names =
    [
        "BUSY", "WEL", "BP0", "BP1", "BP2", "TB", "SEC", "SRP0",
        "SRP1", "QE", "R10", "LB1", "LB2", "LB3", "CMP", "SUS",
        "R16", "R17", "WPS", "R19", "R20", "DRV0", "DRV1", "HOLD/RST",
    ];

    public static bool Bit(uint v, int n) => ((v >> n) & 1) != 0;

    public static IEnumerable<string> Lines(uint value, int bytes)
    {
        for (int r = 0; r < bytes; r++)
        {
            uint b = (value >> (8 * r)) & 0xFF;
            var bits = Enumerable.Range(8 * r, 8).Select(i => $"{Names[i]}={(Bit(value, i) ? 1 : 0)}");
            yield return $"SR{r + 1} = 0x{b:x2}  {string.Join(' ', bits)}";
        }
        uint bp = (value >> 2) & 7;
        yield return bp == 0
            ? "Block protection: off (BP2..BP0 = 000)"
            : $"Block protection: ON (BP2..BP0 = {Convert.ToString(bp, 2).PadLeft(3, '0')}{(Bit(value, 5) ? ", from the bottom" : ", from the top")}{(bytes >= 2 && Bit(value, 14) ? ", complemented" : "")})";
        if (bytes >= 2)
        {
            yield return $"Quad enable (QE): {(Bit(value, 9) ? "on" : "off")}";
            int srp = (Bit(value, 8) ? 2 : 0) | (Bit(value, 7) ? 1 : 0);
            yield return "Status register protection (SRP1,SRP0): " + srp switch
            {
                0 => "00 software (writable after WREN)",
                1 => "01 hardware (locked while WP# is low)",
                2 => "10 power supply lock-down (until the next power cycle)",
                _ => "11 one-time program (permanent)",
            };
        }
        else
        {
            yield return $"Status register protect (SRP0): {(Bit(value, 7) ? "on" : "off")}";
        }
    }

    public static JsonObject Json(uint value, int bytes)
    {
        var bits = new JsonObject();
        for (int i = 0; i < 8 * bytes; i++)
        {
            if (Names[i].StartsWith('R') && char.IsDigit(Names[i][1])) continue;
            bits[Names[i]] = Bit(value, i) ? 1 : 0;
        }
        var regs = new JsonArray();
        for (int r = 0; r < bytes; r++) regs.Add((value >> (8 * r)) & 0xFF);
        return new JsonObject
        {
            ["value"] = value,
            ["hex"] = "0x" + value.ToString($"x{bytes * 2}"),
            ["bytes"] = bytes,
            ["registers"] = regs,
            ["bp"] = (value >> 2) & 7,
            ["qe"] = bytes >= 2 ? Bit(value, 9) : null,
            ["srp0"] = Bit(value, 7),
            ["srp1"] = bytes >= 2 ? Bit(value, 8) : null,
            ["bits"] = bits,
            ["description"] = FlashStatus.Describe(value, bytes),
        };
    }
}
