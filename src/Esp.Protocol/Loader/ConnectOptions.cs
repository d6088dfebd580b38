using Esp.Protocol.Transport;

namespace Esp.Protocol.Loader;

/// <summary>How to reach and prepare a chip. Names follow esptool's options.</summary>
public sealed record ConnectOptions
{
    /// <summary>Serial device, COM name, <c>socket://</c>, <c>rfc2217://</c> or a registered scheme such as <c>sim:</c>.</summary>
    public string Port { get; init; } = "";

    /// <summary>Baud rate for the work after connecting (the connection itself starts at 115200).</summary>
    public int Baud { get; init; } = 460800;

    /// <summary>Chip key (<c>esp32</c>, <c>esp32c3</c>, …) or <c>auto</c>.</summary>
    public string Chip { get; init; } = "auto";

    /// <summary><c>default-reset</c>, <c>usb-reset</c>, <c>no-reset</c>, <c>no-reset-no-sync</c>.</summary>
    public string Before { get; init; } = "default-reset";

    /// <summary><c>hard-reset</c>, <c>soft-reset</c>, <c>no-reset</c>, <c>no-reset-stub</c>.</summary>
    public string After { get; init; } = "hard-reset";

    /// <summary><see cref="Before"/> in one spelling: esptool v4's underscores and any case mean the same.</summary>
    public string BeforeMode => Mode(Before);

    /// <summary><see cref="After"/> in one spelling (<c>hard_reset</c> → <c>hard-reset</c>).</summary>
    public string AfterMode => Mode(After);

    /// <summary>A reset mode as the engine compares it: trimmed, lower case, hyphens.</summary>
    public static string Mode(string value) => value.Trim().Replace('_', '-').ToLowerInvariant();

    /// <summary>
    /// An esptool-format stub JSON to upload instead of the shipped stub for the chip (<see cref="Stubs.FlasherStubs"/>).
    /// </summary>
    public string? StubFile { get; init; }

    /// <summary>Talk to the ROM loader only: upload no flasher stub (esptool's <c>--no-stub</c>).</summary>
    public bool NoStub { get; init; }

    /// <summary>Custom reset sequence (esptool config syntax); replaces the default strategies.</summary>
    public string? CustomResetSequence { get; init; }

    public int ConnectAttempts { get; init; } = 7;

    /// <summary>
    /// Requests in flight per kind, instead of what the loader is known to take (<see cref="Chips.ChipDefinition.RomWindows"/>;
    /// stubs: one at a time). For benchmarks and experiments; a window the loader cannot take loses replies.
    /// </summary>
    public Chips.LoaderWindows? Windows { get; init; }

    public EspTimeouts Timeouts { get; init; } = EspTimeouts.Default;

    /// <summary>An already open transport (tests, embedding); <see cref="Port"/> is then only a label.</summary>
    public IEspTransport? Transport { get; init; }

    /// <summary>Receives every packet when set (<c>--trace</c>).</summary>
    public Action<WireTraceEvent>? Trace { get; init; }

    /// <summary>Receives human-readable status lines ("Detecting chip type... ESP32").</summary>
    public Action<string>? Log { get; init; }
}
