namespace Esp.Cli;

/// <summary>
/// What the CLI sees of the world besides its arguments: environment variables, directories, whether it talks
/// to a terminal, and where confirmations are read from. The defaults describe the real process; tests replace
/// any of them so that commands run in-process without touching the machine's settings.
/// </summary>
public sealed class CliHost
{
    /// <summary>Environment variables; null reads the process environment.</summary>
    public IReadOnlyDictionary<string, string?>? Environment { get; init; }

    /// <summary>Directory that relative paths and <c>esptool.cfg</c> are looked up in; null = the process's.</summary>
    public string? CurrentDirectory { get; init; }

    /// <summary>Home directory (for <c>~/.config/esptool/esptool.cfg</c>); null = the user's.</summary>
    public string? HomeDirectory { get; init; }

    /// <summary>Whether standard output is a terminal (progress bars, colour); null = false.</summary>
    public bool IsTerminal { get; init; }

    /// <summary>Whether questions can be asked (a person is at the keyboard).</summary>
    public bool IsInteractive { get; init; }

    /// <summary>Where answers to questions are read from.</summary>
    public TextReader? Input { get; init; }

    /// <summary>Width of the terminal for progress bars; null lets the console decide.</summary>
    public int? Width { get; init; }

    /// <summary>Without a terminal, the longest time between two progress lines of a running operation; null = 5 s.</summary>
    public TimeSpan? ProgressInterval { get; init; }

    /// <summary>Lists the host's serial ports (list_ports and the default port); null = <see cref="Esp.Protocol.Transport.PortDiscovery.List"/>.</summary>
    public Func<IReadOnlyList<Esp.Protocol.Transport.SerialPortInfo>>? PortLister { get; init; }

    internal IReadOnlyList<Esp.Protocol.Transport.SerialPortInfo> ListPorts() =>
        (PortLister ?? Esp.Protocol.Transport.PortDiscovery.List)();

    /// <summary>
    /// Keys typed at the terminal, one per call, when standard input is a terminal (the monitor quits on Ctrl+]);
    /// null when it is not.
    /// </summary>
    public Func<CancellationToken, Task<ConsoleKeyInfo>>? ReadKey { get; init; }

    /// <summary>Called once a long-running command (simulate) is ready for clients.</summary>
    public Action? OnReady { get; init; }

    /// <summary>A host describing this process (used by <c>Main</c>).</summary>
    public static CliHost FromProcess() => new()
    {
        IsTerminal = !Console.IsOutputRedirected,
        IsInteractive = !Console.IsInputRedirected && !Console.IsOutputRedirected,
        Input = Console.In,
        ReadKey = Console.IsInputRedirected ? null : TerminalKeys.ReadAsync,
    };

    internal string? GetEnvironmentVariable(string name) =>
        Environment is null ? System.Environment.GetEnvironmentVariable(name)
        : Environment.TryGetValue(name, out var v) ? v : null;

    internal string WorkingDirectory => CurrentDirectory ?? Directory.GetCurrentDirectory();

    internal string Home => HomeDirectory ?? System.Environment.GetFolderPath(System.Environment.SpecialFolder.UserProfile);

    /// <summary>Resolves a path given on the command line against <see cref="CurrentDirectory"/>.</summary>
    internal string ResolvePath(string path) =>
        Path.IsPathRooted(path) ? path : Path.GetFullPath(Path.Combine(WorkingDirectory, path));
}
