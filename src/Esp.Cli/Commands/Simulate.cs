using System.Text.Json.Nodes;
using Esp.Protocol.Errors;
using Esp.Simulator;
using static Esp.Cli.CliCommand;

namespace Esp.Cli.Commands;

/// <summary>simulate: serve a virtual chip over a pty, TCP or RFC 2217 until Ctrl+C.</summary>
internal static class Simulate
{
    public static CliCommand Create()
    {
        var pty = Option<string?>("--pty", "Create a pseudo-terminal with a symlink at PATH (connect with --port PATH --before no-reset).");
        var tcp = Option<string?>("--tcp", "Listen on 127.0.0.1:PORT for raw TCP (connect with --port socket://127.0.0.1:PORT); 0 picks a free port.");
        var rfc = Option<string?>("--rfc2217", "Listen on 127.0.0.1:PORT as an RFC 2217 server (--port rfc2217://127.0.0.1:PORT); 0 picks a free port.");
        var flash = Option<string?>("--flash", "Flash size of the virtual chip (default 4MB).");
        var state = Option<string?>("--state", "File that keeps the chip's flash between runs (created when missing).");
        return new CliCommand
        {
            Name = "simulate",
            Usage = "(--pty PATH | --tcp PORT | --rfc2217 PORT) [--chip C] [--flash 4MB] [--state FILE]",
            Command = Define("simulate", "Run a virtual chip that esptool or dotnet esp can connect to, until Ctrl+C.", pty, tcp, rfc, flash, state),
            Run = async ctx =>
            {
                var ptyPath = ctx.Value(pty);
                var tcpText = ctx.Value(tcp);
                var rfcText = ctx.Value(rfc);
                int hosts = (ptyPath is null ? 0 : 1) + (tcpText is null ? 0 : 1) + (rfcText is null ? 0 : 1);
                if (hosts == 0) throw UsageException.Invalid("simulate needs where to serve the chip: --pty PATH, --tcp PORT or --rfc2217 PORT.");
                int? tcpPort = tcpText is null ? null : Numbers.ParseInt(tcpText, "TCP port", 0, 65535);
                int? rfcPort = rfcText is null ? null : Numbers.ParseInt(rfcText, "TCP port", 0, 65535);
                var chipKey = ctx.Settings.Chip == "auto" ? "esp32" : ctx.Settings.Chip;
                int flashSize = ctx.Value(flash) is { } f ? (int)Numbers.ParseSize(f, "flash size") : 4 * 1024 * 1024;
                if (flashSize < 256 * 1024 || (flashSize & (flashSize - 1)) != 0)
                    throw UsageException.Invalid($"The flash size must be a power of two of at least 256 KiB (got {flashSize}).");
                var statePath = ctx.Value(state) is { } s ? ctx.Host.ResolvePath(s) : null;

                VirtualChip chip;
                try
                {
                    chip = new VirtualChip(new VirtualChipOptions { Chip = chipKey, FlashSize = flashSize, StatePath = statePath });
                }
                catch (Exception ex) when (ex is ArgumentException or IOException)
                {
                    throw new UsageException(EspErrorCode.InvalidArgument, $"The virtual chip cannot start: {ex.Message}");
                }
                var servers = new List<IDisposable>();
                var endpoints = new JsonArray();
                try
                {
                    if (ptyPath is not null)
                    {
                        var host = new PtyHost(chip, ctx.Host.ResolvePath(ptyPath));
                        servers.Add(host);
                        Announce(ctx, endpoints, "pty", host.Path, $"--port {host.Path} --before no-reset");
                    }
                    if (tcpPort is { } tp)
                    {
                        var server = new TcpSerialServer(chip, tp);
                        servers.Add(server);
                        Announce(ctx, endpoints, "tcp", $"socket://127.0.0.1:{server.Port}", $"--port socket://127.0.0.1:{server.Port}");
                    }
                    if (rfcPort is { } rp)
                    {
                        var server = new Rfc2217Server(chip, rp);
                        servers.Add(server);
                        Announce(ctx, endpoints, "rfc2217", $"rfc2217://127.0.0.1:{server.Port}", $"--port rfc2217://127.0.0.1:{server.Port}");
                    }
                    ctx.Output.Line($"Virtual {chipKey} with {Numbers.FormatBytes(flashSize)} flash{(statePath is null ? "" : $", state in {statePath}")}. Press Ctrl+C to stop.");
                    if (ctx.Output.Json)
                    {
                        // Scripts need the endpoints while the chip runs, not at exit: print them now, one line.
                        ctx.Output.WriteJson(new JsonObject { ["command"] = "simulate", ["event"] = "listening", ["chip"] = chipKey, ["endpoints"] = endpoints.DeepClone() });
                    }
                    ctx.Output.Flush();
                    ctx.Host.OnReady?.Invoke();
                    try
                    {
                        await Task.Delay(Timeout.Infinite, ctx.CancellationToken).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException)
                    {
                    }
                }
                finally
                {
                    foreach (var server in servers) server.Dispose();
                    await chip.DisposeAsync().ConfigureAwait(false);
                }
                ctx.Output.Line("Virtual chip stopped" + (statePath is null ? "." : $"; flash saved to {statePath}."));
                return new JsonObject { ["event"] = "stopped", ["chip"] = chipKey, ["state"] = statePath, ["endpoints"] = endpoints };
            },
        };
    }

    private static void Announce(CliContext ctx, JsonArray endpoints, string kind, string address, string usage)
    {
        ctx.Output.Markup($"Serving on [green]{Spectre.Console.Markup.Escape(address)}[/]  →  dotnet esp {Spectre.Console.Markup.Escape(usage)} <command>");
        endpoints.Add(new JsonObject { ["kind"] = kind, ["port"] = address });
    }
}
