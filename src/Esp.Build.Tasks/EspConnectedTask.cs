using Esp.Protocol.Errors;
using Esp.Protocol.Loader;
using Esp.Protocol.Operations;
using Esp.Protocol.Transport;
using Microsoft.Build.Framework;

namespace Esp.Build.Tasks;

/// <summary>
/// Base of the tasks that talk to a chip: the connection parameters (Port, Baud, Chip, Before, After, StubFile,
/// timeouts) and the connect / finish sequence around <see cref="RunAsync(EspSession, CancellationToken)"/>; for the
/// tasks that write (<see cref="CanResume"/>), the reconnect and resume after a dropped link.
/// An empty parameter means "not set": the <c>ESPTOOL_*</c> environment variable for Port, Baud and Chip, else the
/// engine's default (<see cref="ConnectOptions"/>).
/// </summary>
public abstract partial class EspConnectedTask : EspTaskBase
{
    private static readonly ConnectOptions Defaults = new();
    private static readonly ResumeOptions ResumeDefaults = new();

    /// <summary>
    /// Lets the Linux port discovery read another sysfs/dev tree (<c>$ROOT/sys</c>, <c>$ROOT/dev</c>), for tests.
    /// </summary>
    private const string SysfsRootVariable = "ESP_BUILD_SYSFS_ROOT";

    private const string PortHelp =
        "Set the port with the EspPort property (e.g. -p:EspPort=/dev/ttyUSB0, or in Esp.user.props next to the project) or the ESPTOOL_PORT environment variable.";

    /// <summary>
    /// Serial device, COM name, socket://, rfc2217:// or sim: URI. Empty: ESPTOOL_PORT, then <see cref="DefaultPort"/>,
    /// then the only ESP USB bridge.
    /// </summary>
    public string? Port { get; set; }

    /// <summary>The project's fallback port (EspDefaultPort): used when neither Port nor ESPTOOL_PORT names one.</summary>
    public string? DefaultPort { get; set; }

    /// <summary>Baud rate after connecting (empty: ESPTOOL_BAUD, else <see cref="ConnectOptions.Baud"/>).</summary>
    public string? Baud { get; set; }

    /// <summary>Chip key (esp32, esp32c3, …) or auto (empty: ESPTOOL_CHIP, else auto).</summary>
    public string? Chip { get; set; }

    /// <summary>default-reset (the default), usb-reset, no-reset, no-reset-no-sync.</summary>
    public string? Before { get; set; }

    /// <summary>hard-reset (the default), soft-reset, no-reset, no-reset-stub.</summary>
    public string? After { get; set; }

    /// <summary>esptool-format stub JSON to run instead of the shipped flasher stub.</summary>
    public string? StubFile { get; set; }

    /// <summary>Talk to the ROM loader only (no flasher stub); default false.</summary>
    public bool NoStub { get; set; }

    /// <summary>Connection attempts (each runs the reset strategy and five syncs); default <see cref="ConnectOptions.ConnectAttempts"/>.</summary>
    public int ConnectAttempts { get; set; } = Defaults.ConnectAttempts;

    /// <summary>Timeout of one command in milliseconds (default 3000).</summary>
    public int CommandTimeoutMs { get; set; }

    /// <summary>Timeout of one sync attempt in milliseconds (default 100).</summary>
    public int SyncTimeoutMs { get; set; }

    /// <summary>Erase/write timeout per megabyte in milliseconds (default 40000).</summary>
    public int EraseWriteTimeoutPerMbMs { get; set; }

    /// <summary>MD5 timeout per megabyte in milliseconds (default 8000).</summary>
    public int Md5TimeoutPerMbMs { get; set; }

    /// <summary>Custom reset sequence (esptool syntax), replacing the default strategies.</summary>
    public string? CustomResetSequence { get; set; }

    /// <summary>
    /// Reconnect and finish when the link drops or the port re-enumerates mid-write (EspResume; default true). Only the
    /// tasks that write resume; they re-plan from the chip's MD5s, so a resume rewrites only what is missing.
    /// </summary>
    public bool Resume { get; set; } = true;

    /// <summary>How long a resume waits for the port to come back, in milliseconds (EspPortWaitMs; default 10000).</summary>
    public int PortWaitMs { get; set; }

    /// <summary>How many times the task reconnected and resumed (0: it finished on its first connection).</summary>
    [Output] public int Resumes { get; private set; }

    /// <summary>The port that was used (after defaults and discovery).</summary>
    [Output] public string? UsedPort { get; private set; }

    /// <summary>The detected chip's name, e.g. "ESP32".</summary>
    [Output] public string? ChipName { get; private set; }

    /// <summary>Lists serial ports for discovery and resumes; tests replace it. Default: the host's ports (<see cref="SysfsRootVariable"/>).</summary>
    internal Func<IReadOnlyList<SerialPortInfo>> ListPorts { get; set; } = ListHostPorts;

    /// <summary>Checks the parameters before the port is opened (throw <see cref="EspException"/>).</summary>
    protected virtual void Validate()
    {
    }

    /// <summary>The task's work can run again on a fresh session and then finishes the job (see <see cref="Attempt"/>).</summary>
    protected virtual bool CanResume => false;

    /// <summary>Which session <see cref="RunAsync(EspSession, CancellationToken)"/> runs in: a resume after a dropped link, or the first.</summary>
    protected ResumeAttempt Attempt { get; private set; } = new(1, null);

    protected sealed override async Task RunAsync(CancellationToken ct)
    {
        Validate();
        var env = EsptoolEnvironment.FromProcess();
        if (ManyBoards(env) is { } boards)
        {
            await RunOnBoardsAsync(boards, env, ct).ConfigureAwait(false);
            return;
        }
        var options = BuildOptions(env, ResolvePort(env));
        UsedPort = options.Port;
        Log.LogMessage(MessageImportance.Low, "Connecting to {0} (chip {1}, baud {2}, before {3}).", options.Port, options.Chip, options.Baud, options.Before);
        var resume = ResumeSettings(line => Log.LogMessage(MessageImportance.High, "Esp.Build: {0}", line));
        await ResumableRun.RunAsync(ResumableRun.ConnectorFor(options, resume, ListPorts), async (session, attempt, token) =>
        {
            Attempt = attempt;
            Resumes = attempt.Number - 1;
            ChipName = session.Chip.Name;
            UsedPort = session.Options.Port;
            Log.LogMessage(MessageImportance.High, "Esp.Build: {0} {1} on {2}, {3}.", attempt.IsResume ? "reconnected to" : "connected to",
                session.Chip.Name, session.Options.Port, session.Loader.Kind == LoaderKind.FlasherStub ? "running the flasher stub" : "using the ROM loader");
            await RunAsync(session, token).ConfigureAwait(false);
            return true;
        }, resume, ct).ConfigureAwait(false);
    }

    /// <summary>The connection setting that a failure to reach or drive the chip is about (errors point at its line).</summary>
    protected override (string Property, string? Value)? SettingBehind(EspException ex) => ex.Code switch
    {
        EspErrorCode.PortNotFound or EspErrorCode.PortBusy or EspErrorCode.InvalidPortUri or EspErrorCode.LineControlUnsupported
            or EspErrorCode.NoSyncReply or EspErrorCode.WrongBootMode or EspErrorCode.DuplicatePort => ("EspPort", Port),
        EspErrorCode.BaudChangeFailed => ("EspBaud", Baud),
        EspErrorCode.UnknownChip or EspErrorCode.ChipMismatch => ("EspChip", Chip),
        EspErrorCode.InvalidStubFile or EspErrorCode.StubStartFailed => ("EspStubFile", StubFile),
        EspErrorCode.InvalidResetSequence => ("EspCustomResetSequence", CustomResetSequence),
        _ => base.SettingBehind(ex),
    };

    /// <summary>The task's work on a connected chip. The After action runs when it returns.</summary>
    protected abstract Task RunAsync(EspSession session, CancellationToken ct);

    /// <summary>" (resumed after …)" for a summary line when the work needed more than one session, else empty.</summary>
    protected string ResumeNote() => ResumeNote(Attempt);

    /// <summary>" (resumed after …)" for the summary line of work that ran in <paramref name="attempt"/>.</summary>
    protected static string ResumeNote(ResumeAttempt attempt) => attempt.IsResume
        ? $", resumed {(attempt.Number == 2 ? "once" : $"{attempt.Number - 1} times")} after a dropped session ({attempt.After?.CodeText}: {attempt.After?.Message})"
        : "";

    /// <summary>The port without a sim: URI's query (file paths), to keep summary lines and tables readable.</summary>
    protected static string ShortPort(string? port) =>
        port is null ? "?" : port.StartsWith("sim:", StringComparison.OrdinalIgnoreCase) && port.IndexOf('?') is var q and > 0 ? port[..q] + " (virtual chip)" : port;

    private ResumeOptions ResumeSettings(Action<string> log) => new()
    {
        Attempts = CanResume && Resume ? ResumeDefaults.Attempts : 1,
        PortWait = PortWaitMs > 0 ? TimeSpan.FromMilliseconds(PortWaitMs) : ResumeDefaults.PortWait,
        Log = log,
    };

    private ConnectOptions BuildOptions(EsptoolEnvironment env, string port)
    {
        string? baudText = NonEmpty(Baud) ?? env.Baud;
        int baud = baudText is null ? Defaults.Baud : ParseBaud(baudText);
        var t = EspTimeouts.Default;
        if (CommandTimeoutMs > 0) t = t with { Command = TimeSpan.FromMilliseconds(CommandTimeoutMs) };
        if (SyncTimeoutMs > 0) t = t with { Sync = TimeSpan.FromMilliseconds(SyncTimeoutMs) };
        if (EraseWriteTimeoutPerMbMs > 0) t = t with { EraseWritePerMegabyte = TimeSpan.FromMilliseconds(EraseWriteTimeoutPerMbMs) };
        if (Md5TimeoutPerMbMs > 0) t = t with { Md5PerMegabyte = TimeSpan.FromMilliseconds(Md5TimeoutPerMbMs) };
        string? stub = NonEmpty(StubFile);
        if (stub is not null && !File.Exists(stub))
            throw new EspSettingException(EspErrorCode.FileNotFound, "EspStubFile", StubFile, $"The stub file '{stub}' does not exist.");
        if (stub is not null && NoStub)
            throw new EspSettingException(EspErrorCode.InvalidArgument, "EspStubFile", StubFile, "EspNoStub=true and EspStubFile exclude each other.", "Set only one of them.");
        return new ConnectOptions
        {
            Port = port,
            Baud = baud,
            Chip = NonEmpty(Chip) ?? env.Chip ?? Defaults.Chip,
            Before = NonEmpty(Before) ?? Defaults.Before,
            After = NonEmpty(After) ?? Defaults.After,
            StubFile = stub,
            NoStub = NoStub,
            CustomResetSequence = NonEmpty(CustomResetSequence),
            ConnectAttempts = ConnectAttempts,
            Timeouts = t,
            Log = line => Log.LogMessage(MessageImportance.Low, "{0}", line),
        };
    }

    private int ParseBaud(string text) => Numbers.TryParse(text, out uint baud) && baud <= int.MaxValue
        ? (int)baud
        : throw new EspSettingException(EspErrorCode.InvalidNumber, "EspBaud", Baud, $"Baud '{text}' is not a number.");

    private string ResolvePort(EsptoolEnvironment env)
    {
        var port = NonEmpty(Port) ?? env.Port ?? NonEmpty(DefaultPort);
        if (port is not null) return port;
        var chosen = ChooseDefaultPort(ListPorts());
        Log.LogMessage(MessageImportance.High, "Esp.Build: no port set; using {0}, the only ESP USB bridge found (set EspPort to choose another).", chosen);
        return chosen.Path;
    }

    /// <summary>The only known ESP USB bridge among <paramref name="ports"/>; else ESP2003/ESP2004 naming EspPort.</summary>
    internal static SerialPortInfo ChooseDefaultPort(IReadOnlyList<SerialPortInfo> ports) => PortDiscovery.ChooseDefault(ports, PortHelp);

    /// <summary>The host's serial ports (from the fake tree <see cref="SysfsRootVariable"/> names, in tests).</summary>
    internal static IReadOnlyList<SerialPortInfo> ListHostPorts()
    {
        var root = Environment.GetEnvironmentVariable(SysfsRootVariable);
        return string.IsNullOrEmpty(root)
            ? PortDiscovery.List()
            : PortDiscovery.ListLinux(Path.Combine(root, "sys"), Path.Combine(root, "dev"));
    }
}
