using System.CommandLine;
using static Esp.Cli.CliCommand;

namespace Esp.Cli;

/// <summary>esptool's global options (accepted before or after the command name).</summary>
internal sealed class GlobalOptions
{
    public Option<string[]> Port { get; } = Option<string[]>("--port",
        "Serial port, socket://host:port, rfc2217://host:port or sim:<chip>[?flash=4MB&state=FILE] (env ESPTOOL_PORT). "
        + $"Repeat it, or give a ';' list or 'all' (every ESP USB bridge), to run {MultiBoard.CommandList} on several boards at once.", "-p");
    public Option<string?> Baud { get; } = Option<string?>("--baud", $"Baud rate for the work after connecting (default {GlobalSettings.Defaults.Baud}; env ESPTOOL_BAUD).", "-b");
    public Option<string?> Chip { get; } = Option<string?>("--chip", "Chip type: auto, esp8266, esp32, esp32s2, esp32s3, esp32c2, esp32c3, esp32c6, esp32h2, esp32p4, … (env ESPTOOL_CHIP).", "-c");
    public Option<string?> Before { get; } = Option<string?>("--before", "What to do before connecting: default-reset, usb-reset, no-reset, no-reset-no-sync.");
    public Option<string?> After { get; } = Option<string?>("--after", "What to do when done: hard-reset, soft-reset, no-reset, no-reset-stub.", "-a");
    public Option<bool> NoStub { get; } = Option<bool>("--no-stub", "Talk to the ROM loader only: upload no flasher stub (by default the shipped stub for the chip runs).");
    public Option<string?> StubFile { get; } = Option<string?>("--stub-file", "Upload this flasher stub (esptool's JSON format) instead of the shipped one.");
    public Option<bool> Trace { get; } = Option<bool>("--trace", "Print every packet exchanged with the chip to stderr.", "-t");
    public Option<string?> ConnectAttempts { get; } = Option<string?>("--connect-attempts", $"How many times to try to connect (0 = forever; default {GlobalSettings.Defaults.ConnectAttempts} or connect_attempts in esptool.cfg).");
    public Option<bool> Json { get; } = Option<bool>("--json", "Print one JSON document on stdout instead of text.");
    public Option<string?> MaxParallel { get; } = Option<string?>("--max-parallel", "With several ports: how many boards are worked on at once (default: all of them).");
    public Option<bool> StopOnFirstError { get; } = Option<bool>("--stop-on-first-error", "With several ports: cancel the other boards when one fails (default: every board runs to its end).");

    public IEnumerable<Option> All => [Port, Baud, Chip, Before, After, NoStub, StubFile, Trace, ConnectAttempts, Json, MaxParallel, StopOnFirstError];

    public GlobalOptions()
    {
        foreach (var o in All) o.Recursive = true;
    }
}
