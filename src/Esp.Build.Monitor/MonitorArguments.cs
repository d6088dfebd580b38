using System.Globalization;

namespace Esp.Build.Monitor;

/// <summary>
/// The command line the package's targets write into RunArguments. Each option carries an MSBuild property, and its
/// errors name that property: people set the properties, not these options.
/// </summary>
internal sealed record MonitorArguments
{
    /// <summary>The console baud rate of ESP-IDF, Arduino and nanoFramework applications (not the flashing default).</summary>
    public const int DefaultBaud = 115200;

    /// <summary>The chosen device (<c>dotnet run --device</c>) or EspPort; empty: ESPTOOL_PORT, then <see cref="DefaultPort"/>, then the only ESP USB bridge.</summary>
    public string? Port { get; init; }

    /// <summary>EspDefaultPort.</summary>
    public string? DefaultPort { get; init; }

    /// <summary>EspMonitorBaud.</summary>
    public int Baud { get; init; } = DefaultBaud;

    /// <summary>EspMonitorUntil: end with success when a line contains it.</summary>
    public string? Until { get; init; }

    /// <summary>EspMonitorTimeoutSeconds: the longest the monitor listens.</summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>EspMonitor=false: the deploy was all that was asked for.</summary>
    public bool NoMonitor { get; init; }

    /// <summary>Arguments after <c>--</c>: what <c>dotnet run -- …</c> meant for the application, which a chip cannot take.</summary>
    public IReadOnlyList<string> ApplicationArguments { get; init; } = [];

    /// <exception cref="ArgumentException">An option is unknown, lacks its value, or has a value out of range.</exception>
    public static MonitorArguments Parse(IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var result = new MonitorArguments();
        for (int i = 0; i < args.Count; i++)
        {
            string Value() => i + 1 < args.Count ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
            result = args[i] switch
            {
                "--port" => result with { Port = NonEmpty(Value()) },
                "--default-port" => result with { DefaultPort = NonEmpty(Value()) },
                "--baud" => result with { Baud = ParseBaud(Value()) },
                "--until" => result with { Until = NonEmpty(Value()) },
                "--timeout" => result with { Timeout = ParseSeconds(Value()) },
                "--no-monitor" => result with { NoMonitor = true },
                "--" => result with { ApplicationArguments = [.. args.Skip(i + 1)] },
                _ => throw new ArgumentException($"'{args[i]}' is not an option of the monitor."),
            };
            if (args[i] == "--") break;
        }
        return result;
    }

    private static string? NonEmpty(string value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    private static int ParseBaud(string text)
    {
        if (string.IsNullOrWhiteSpace(text)) return DefaultBaud;
        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int baud) && baud is >= 300 and <= 20_000_000
            ? baud
            : throw new ArgumentException($"EspMonitorBaud '{text}' is not a baud rate (300 to 20000000).");
    }

    private static TimeSpan? ParseSeconds(string text)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double s) && s > 0 && s <= 7 * 24 * 3600
            ? TimeSpan.FromSeconds(s)
            : throw new ArgumentException($"EspMonitorTimeoutSeconds '{text}' is not a number of seconds greater than 0.");
    }
}
