using Esp.Protocol.Errors;
using Esp.Protocol.Loader;

namespace Esp.Cli;

/// <summary>
/// Connection settings after every source is applied: command line, then ESPTOOL_* variables, then the
/// esptool configuration file, then the engine's defaults (<see cref="Defaults"/>).
/// </summary>
internal sealed record GlobalSettings
{
    /// <summary>The engine's connection defaults (baud, chip, reset modes, connect attempts).</summary>
    public static readonly ConnectOptions Defaults = new();

    public static readonly string[] BeforeValues = ["default-reset", "usb-reset", "no-reset", "no-reset-no-sync"];
    public static readonly string[] AfterValues = ["hard-reset", "soft-reset", "no-reset", "no-reset-stub"];

    public string? Port { get; init; }
    public required int Baud { get; init; }
    public required string Chip { get; init; }
    public required string Before { get; init; }
    public required string After { get; init; }
    public string? StubFile { get; init; }
    public bool NoStub { get; init; }
    public bool Trace { get; init; }
    public required int ConnectAttempts { get; init; }
    public string? CustomResetSequence { get; init; }
    public EspTimeouts Timeouts { get; init; } = EspTimeouts.Default;
    public EsptoolConfig Config { get; init; } = EsptoolConfig.Empty;

    /// <summary>esptool spells choices with underscores (v4) or hyphens (v5); both mean the same.</summary>
    public static string NormalizeChoice(string value) => ConnectOptions.Mode(value);

    public static string CheckChoice(string value, string[] allowed, string option)
    {
        var v = NormalizeChoice(value);
        if (!allowed.Contains(v))
            throw new UsageException(EspErrorCode.InvalidArgument,
                $"'{value}' is not a valid value for {option}; use one of: {string.Join(", ", allowed)}.");
        return v;
    }

    public static string CheckChip(string value)
    {
        var v = value.Trim().ToLowerInvariant().Replace("-", "", StringComparison.Ordinal).Replace("_", "", StringComparison.Ordinal);
        if (v == "auto") return v;
        if (Esp.Protocol.Chips.ChipDatabase.TryGet(v) is { } chip) return chip.Key;
        throw new UsageException(EspErrorCode.UnknownChip, $"'{value}' is not a chip this tool knows.");
    }
}
