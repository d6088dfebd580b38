using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using Esp.Protocol.Errors;
using Esp.Simulator;
using static Esp.Cli.CliCommand;

namespace Esp.Cli.Commands;

/// <summary>simulate: serve a virtual chip over a pty, TCP and/or RFC 2217 until Ctrl+C.</summary>
internal static class Simulate
{
    public static CliCommand Create()
    {
        var pty = Option<string?>("--pty", "Create a pseudo-terminal with a symlink at PATH (connect with --port PATH --before no-reset).");
        var tcp = Option<string?>("--tcp", "Listen on 127.0.0.1:PORT for raw TCP (connect with --port socket://127.0.0.1:PORT); 0 picks a free port.");
        var rfc = Option<string?>("--rfc2217", "Listen on 127.0.0.1:PORT as an RFC 2217 server (--port rfc2217://127.0.0.1:PORT); 0 picks a free port.");
        var flash = Option<string?>("--flash", "Flash size of the virtual chip (default 4MB).");
        var state = Option<string?>("--state", "File that keeps the chip's flash between runs (created when missing).");
        var set = Option<string[]>("--set", "Set a sim: URI parameter, KEY=VALUE (repeatable): seed, baud-throttle, latency-us, stub, secure-download, "
            + "flash-crypt-cnt, revision, mac, download, peripherals, flash-timing, rx-buffer, ...");
        var uri = Option<string?>("--uri", "Start from a sim: URI (sim:esp32c3?key=value&...); --flash, --state and --set apply on top of it.");
        return new CliCommand
        {
            Name = "simulate",
            Usage = "(--pty PATH | --tcp PORT | --rfc2217 PORT)... [--chip C] [--flash 4MB] [--state FILE] [--set KEY=VALUE]... [--uri sim:C?KEY=VALUE&...]",
            Command = Define("simulate", "Run a virtual chip that esptool or dotnet esp can connect to, until Ctrl+C.", pty, tcp, rfc, flash, state, set, uri),
            Run = async ctx =>
            {
                var ptyPath = ctx.Value(pty);
                var tcpText = ctx.Value(tcp);
                var rfcText = ctx.Value(rfc);
                int hosts = (ptyPath is null ? 0 : 1) + (tcpText is null ? 0 : 1) + (rfcText is null ? 0 : 1);
                if (hosts == 0) throw UsageException.Invalid("simulate needs where to serve the chip: --pty PATH, --tcp PORT or --rfc2217 PORT.");
                int? tcpPort = tcpText is null ? null : Numbers.ParseInt(tcpText, "TCP port", 0, 65535);
                int? rfcPort = rfcText is null ? null : Numbers.ParseInt(rfcText, "TCP port", 0, 65535);
                var options = ChipOptions(ctx, ctx.Value(uri), ctx.Value(flash), ctx.Value(state), ctx.Value(set) ?? []);

                VirtualChip chip;
                try
                {
                    chip = new VirtualChip(options);
                }
                catch (Exception ex) when (ex is ArgumentException or IOException or InvalidDataException)
                {
                    throw new UsageException(EspErrorCode.InvalidArgument, $"The virtual chip cannot start: {ex.Message}");
                }
                var statePath = chip.Options.StatePath;
                ChipServers? servers = null;
                var endpoints = new JsonArray();
                try
                {
                    servers = new ChipServers(chip, ptyPath is null ? null : ctx.Host.ResolvePath(ptyPath), tcpPort, rfcPort);
                    foreach (var endpoint in servers.Endpoints) Announce(ctx, endpoints, endpoint);
                    ctx.Output.Line($"Virtual {chip.ChipKey} with {Numbers.FormatBytes(chip.Flash.Size)} flash (JEDEC {chip.Flash.Manufacturer:x2}{chip.Flash.MemoryType:x2}{chip.Flash.CapacityId:x2})"
                        + $"{(statePath is null ? "" : $", state in {statePath}")}. Press Ctrl+C to stop.");
                    if (ctx.Output.Json)
                    {
                        // Scripts need the endpoints while the chip runs, not at exit: print them now, as a document of their own.
                        ctx.Output.WriteJson(new JsonObject { ["command"] = "simulate", ["event"] = "listening", ["chip"] = chip.ChipKey, ["endpoints"] = endpoints.DeepClone() });
                    }
                    ctx.Output.Flush();
                    ctx.Host.OnReady?.Invoke();
                    using var stop = CancellationTokenSource.CreateLinkedTokenSource(ctx.CancellationToken);
                    using var onTerminate = StopOnSigterm(stop);
                    try
                    {
                        await Task.Delay(Timeout.Infinite, stop.Token).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException)
                    {
                    }
                }
                finally
                {
                    servers?.Dispose();
                    await chip.DisposeAsync().ConfigureAwait(false);
                }
                var stats = chip.Statistics;
                ctx.Output.Line($"Virtual chip stopped ({stats})" + (statePath is null ? "." : $"; flash saved to {statePath}."));
                return new JsonObject
                {
                    ["event"] = "stopped",
                    ["chip"] = chip.ChipKey,
                    ["state"] = statePath,
                    ["endpoints"] = endpoints,
                    ["statistics"] = new JsonObject
                    {
                        ["bytesFromHost"] = stats.BytesFromHost,
                        ["bytesToHost"] = stats.BytesToHost,
                        ["frames"] = stats.FramesReceived,
                        ["faultsInjected"] = stats.FaultsInjected,
                    },
                };
            },
        };
    }

    /// <summary>
    /// What to start: the <c>--uri</c> (default <c>sim:</c>), then <c>--flash</c>, <c>--state</c> and each <c>--set</c>
    /// in that order (a later value of a key wins). The chip is the one the URI names, else <c>--chip</c> (default esp32).
    /// </summary>
    private static VirtualChipOptions ChipOptions(CliContext ctx, string? uri, string? flash, string? state, string[] sets)
    {
        var settings = new List<string>();
        if (flash is not null)
        {
            long size = Numbers.ParseSize(flash, "flash size");
            if (size < 256 * 1024 || (size & (size - 1)) != 0)
                throw UsageException.Invalid($"The flash size must be a power of two of at least 256 KiB (got {size}).");
            settings.Add($"flash={size}");
        }
        if (state is not null) settings.Add("state=" + ctx.Host.ResolvePath(state));
        settings.AddRange(sets);

        string? uriChip;
        VirtualChipOptions options;
        try
        {
            uriChip = uri is null ? null : SimUri.ChipOf(uri);
            options = SimUri.Parse(uri ?? "sim:", settings);
        }
        catch (ArgumentException ex)
        {
            // The sentence without .NET's "(Parameter 'uri')" tail.
            var message = ex.ParamName is { } name ? ex.Message.Replace($" (Parameter '{name}')", "", StringComparison.Ordinal) : ex.Message;
            throw new UsageException(EspErrorCode.InvalidArgument, message);
        }
        if (uriChip is null)
            return options with { Chip = ctx.Settings.Chip == "auto" ? "esp32" : ctx.Settings.Chip };
        // Only a --chip on this command line can contradict the URI; ESPTOOL_CHIP or esptool.cfg give way to it.
        if (ctx.Value(ctx.Globals.Chip) is { } given && GlobalSettings.CheckChip(given) is var key && key != "auto" && key != uriChip)
            throw UsageException.Invalid($"--chip {given} and --uri {uri} name different chips.");
        return options;
    }

    /// <summary>
    /// Service managers and CI stop a server with SIGTERM: stop as on Ctrl+C, so the flash is saved and the figures
    /// printed before the process ends.
    /// </summary>
    private static PosixSignalRegistration? StopOnSigterm(CancellationTokenSource stop)
    {
        try
        {
            return PosixSignalRegistration.Create(PosixSignal.SIGTERM, signal =>
            {
                signal.Cancel = true;
                stop.Cancel();
            });
        }
        catch (PlatformNotSupportedException)
        {
            return null;
        }
    }

    private static void Announce(CliContext ctx, JsonArray endpoints, ChipEndpoint endpoint)
    {
        var usage = endpoint.Kind == EndpointKind.Pty ? $"--port {endpoint.Port} --before no-reset" : $"--port {endpoint.Port}";
        var device = endpoint.Device is null ? "" : $" ({endpoint.Device})";
        ctx.Output.Markup($"Serving on [green]{Spectre.Console.Markup.Escape(endpoint.Port)}[/]{Spectre.Console.Markup.Escape(device)}"
            + $"  →  dotnet esp {Spectre.Console.Markup.Escape(usage)} <command>");
        var json = new JsonObject { ["kind"] = endpoint.Kind.ToString().ToLowerInvariant(), ["port"] = endpoint.Port };
        if (endpoint.Device is not null) json["device"] = endpoint.Device;
        endpoints.Add(json);
    }
}
