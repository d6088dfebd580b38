namespace Esp.Protocol.Loader;

/// <summary>
/// esptool's connection settings from environment variables (<c>ESPTOOL_PORT</c>, <c>ESPTOOL_BAUD</c>, ...), read the
/// same way by the command line and the MSBuild tasks. A value given explicitly (an option, a property) wins over
/// them; what none of them sets keeps the default of <see cref="ConnectOptions"/>. Values are raw text: each host
/// parses and checks them with its own error reporting.
/// </summary>
public sealed record EsptoolEnvironment
{
    public const string PortVariable = "ESPTOOL_PORT";
    public const string BaudVariable = "ESPTOOL_BAUD";
    public const string ChipVariable = "ESPTOOL_CHIP";
    public const string BeforeVariable = "ESPTOOL_BEFORE";
    public const string AfterVariable = "ESPTOOL_AFTER";
    public const string ConnectAttemptsVariable = "ESPTOOL_CONNECT_ATTEMPTS";

    public string? Port { get; init; }
    public string? Baud { get; init; }
    public string? Chip { get; init; }
    public string? Before { get; init; }
    public string? After { get; init; }
    public string? ConnectAttempts { get; init; }

    /// <summary>Reads the variables through <paramref name="getVariable"/>; empty or blank ones count as unset.</summary>
    public static EsptoolEnvironment Read(Func<string, string?> getVariable)
    {
        ArgumentNullException.ThrowIfNull(getVariable);
        string? Get(string name) => getVariable(name) is { } v && !string.IsNullOrWhiteSpace(v) ? v.Trim() : null;
        return new EsptoolEnvironment
        {
            Port = Get(PortVariable),
            Baud = Get(BaudVariable),
            Chip = Get(ChipVariable),
            Before = Get(BeforeVariable),
            After = Get(AfterVariable),
            ConnectAttempts = Get(ConnectAttemptsVariable),
        };
    }

    /// <summary>The variables of this process.</summary>
    public static EsptoolEnvironment FromProcess() => Read(Environment.GetEnvironmentVariable);
}
