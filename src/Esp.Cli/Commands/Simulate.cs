using System.Text.Json.Nodes;
using Esp.Protocol.Errors;
using static Esp.Cli.CliCommand;

namespace Esp.Cli.Commands;

/// <summary>simulate: serve a virtual chip over a pty, TCP or RFC 2217 until Ctrl+C.</summary>
internal static class Simulate
{
    public static CliCommand Create()
    {
        var pty = Option<string?>("--pty", "Create a pseudo-terminal and a symlink at PATH (connect with --port PATH).");
        var tcp = Option<string?>("--tcp", "Listen on 127.0.0.1:PORT for raw TCP (connect with --port socket://localhost:PORT).");
        var rfc = Option<string?>("--rfc2217", "Listen on 127.0.0.1:PORT as an RFC 2217 server (--port rfc2217://localhost:PORT).");
        var flash = Option<string?>("--flash", "Flash size of the virtual chip (default 4MB).");
        var state = Option<string?>("--state", "File that keeps the chip's flash and memory between runs.");
        return new CliCommand
        {
            Name = "simulate",
            Usage = "(--pty PATH | --tcp PORT | --rfc2217 PORT) [--chip C] [--flash 4MB] [--state FILE]",
            Command = Define("simulate", "Run a virtual chip that esptool or dotnet esp can connect to, until Ctrl+C.", pty, tcp, rfc, flash, state),
            Run = _ => throw new EspException(EspErrorCode.UnsupportedCommand, "The virtual chip is not part of this build yet."),
        };
    }
}
