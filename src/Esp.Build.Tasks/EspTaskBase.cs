using Esp.Protocol.Errors;
using Esp.Protocol.Loader;
using Esp.Protocol.Transport;
using Microsoft.Build.Framework;

namespace Esp.Build.Tasks;

/// <summary>
/// Common base of every Esp.Build task: turns <see cref="EspException"/> into <c>ESPnnnn</c> MSBuild errors with a help
/// sentence (never a stack trace), supports cancellation (Ctrl+C, IDE cancel) and throttled progress messages.
/// </summary>
public abstract class EspTaskBase : Microsoft.Build.Utilities.Task, ICancelableTask
{
    private readonly CancellationTokenSource _cts = new();

    static EspTaskBase()
    {
        Esp.Simulator.Link.SimulatorPort.Register();
    }

    /// <summary>Cancelled by <see cref="Cancel"/>; passed to every engine call.</summary>
    protected CancellationToken CancellationToken => _cts.Token;

    /// <summary>MSBuild calls this on Ctrl+C or an IDE cancel.</summary>
    public void Cancel()
    {
        try
        {
            _cts.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }
    }

    public sealed override bool Execute()
    {
        try
        {
            RunAsync(_cts.Token).GetAwaiter().GetResult();
        }
        catch (EspException ex)
        {
            // A cancelled write arrives as an EspWriteIncompleteException that names its ranges; say what the task did too.
            if (_cts.IsCancellationRequested) OnCancelled();
            LogEspError(ex);
        }
        catch (OperationCanceledException) when (_cts.IsCancellationRequested)
        {
            OnCancelled();
            LogEspError(new EspException(EspErrorCode.Cancelled, $"{GetType().Name} was cancelled."));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidDataException)
        {
            LogEspError(new EspException(ex is UnauthorizedAccessException ? EspErrorCode.PortBusy : EspErrorCode.Internal, ex.Message,
                "Check the file or port named in the message and its permissions."));
        }
        return !Log.HasLoggedErrors;
    }

    /// <summary>The task's work.</summary>
    protected abstract Task RunAsync(CancellationToken ct);

    /// <summary>Called when the task was cancelled, before the ESP9001 error is logged (say what was and was not done).</summary>
    protected virtual void OnCancelled()
    {
    }

    /// <summary>Logs an ESPnnnn error: "message help" with the code as error code and help keyword.</summary>
    protected void LogEspError(EspException ex)
    {
        string file = BuildEngine?.ProjectFileOfTaskNode ?? "";
        Log.LogError("Esp.Build", ex.CodeText, ex.CodeText, file, 0, 0, 0, 0, "{0} {1}", ex.Message, ex.Help);
    }

    /// <summary>Logs an ESPnnnn warning.</summary>
    protected void LogEspWarning(string code, string message)
    {
        string file = BuildEngine?.ProjectFileOfTaskNode ?? "";
        Log.LogWarning("Esp.Build", code, code, file, 0, 0, 0, 0, "{0}", message);
    }

    /// <summary>Progress at normal verbosity, at most one message per <paramref name="step"/> of each operation.</summary>
    protected IProgress<Esp.Protocol.Loader.EspProgress> CreateProgress(double step = 0.1) => new ThrottledProgress(this, step);

    internal void LogProgressLine(string text)
    {
        lock (_cts) Log.LogMessage(MessageImportance.Normal, "{0}", text);
    }

    protected static string? NonEmpty(string? s) => string.IsNullOrWhiteSpace(s) ? null : s.Trim();

    /// <summary>Parses a task parameter holding a number (decimal, 0x hex, optional k/M suffix).</summary>
    protected static uint ParseUInt(string? text, string name) => Numbers.ParseUInt(text, name);

    private sealed class ThrottledProgress(EspTaskBase task, double step) : IProgress<EspProgress>
    {
        private string? _operation;
        private double _next;

        public void Report(EspProgress value)
        {
            lock (this)
            {
                if (value.Operation != _operation || value.Done == 0)
                {
                    _operation = value.Operation;
                    _next = step;
                    if (value.Done == 0) return;
                }
                double f = value.Fraction;
                if (f + 1e-9 < _next && value.Done < value.Total) return;
                while (_next <= f + 1e-9) _next += step;
                string detail = value.Detail is null ? "" : $" {value.Detail}";
                task.LogProgressLine($"  {value.Operation}{detail}: {f * 100:0}% ({value.Done} of {value.Total} bytes)");
            }
        }
    }
}

/// <summary>
/// Base of the tasks that talk to a chip: the connection parameters (Port, Baud, Chip, Before, After, StubFile,
/// timeouts) and the connect / finish sequence around <see cref="RunAsync(EspSession, CancellationToken)"/>.
/// An empty parameter means "not set": the <c>ESPTOOL_*</c> environment variable for Port, Baud and Chip, else the
/// engine's default (<see cref="ConnectOptions"/>).
/// </summary>
public abstract class EspConnectedTask : EspTaskBase
{
    private static readonly ConnectOptions Defaults = new();

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

    /// <summary>The port that was used (after defaults and discovery).</summary>
    [Output] public string? UsedPort { get; private set; }

    /// <summary>The detected chip's name, e.g. "ESP32".</summary>
    [Output] public string? ChipName { get; private set; }

    /// <summary>Lists serial ports for discovery; tests replace it. Default: the host's ports (<see cref="SysfsRootVariable"/>).</summary>
    internal static Func<IReadOnlyList<SerialPortInfo>> ListPorts { get; set; } = ListHostPorts;

    /// <summary>Checks the parameters before the port is opened (throw <see cref="EspException"/>).</summary>
    protected virtual void Validate()
    {
    }

    protected sealed override async Task RunAsync(CancellationToken ct)
    {
        Validate();
        var options = BuildOptions();
        UsedPort = options.Port;
        Log.LogMessage(MessageImportance.Low, "Connecting to {0} (chip {1}, baud {2}, before {3}).", options.Port, options.Chip, options.Baud, options.Before);
        await using var session = await EspSession.ConnectAsync(options, ct).ConfigureAwait(false);
        ChipName = session.Chip.Name;
        Log.LogMessage(MessageImportance.High, "Esp.Build: connected to {0} on {1}, {2}.", session.Chip.Name, options.Port,
            session.Loader.Kind == LoaderKind.FlasherStub ? "running the flasher stub" : "using the ROM loader");
        await RunAsync(session, ct).ConfigureAwait(false);
        await session.FinishAsync(ct).ConfigureAwait(false);
    }

    /// <summary>The task's work on a connected chip. The After action runs when it returns.</summary>
    protected abstract Task RunAsync(EspSession session, CancellationToken ct);

    internal ConnectOptions BuildOptions()
    {
        var env = EsptoolEnvironment.FromProcess();
        string port = ResolvePort(env);
        string? baudText = NonEmpty(Baud) ?? env.Baud;
        int baud = baudText is null ? Defaults.Baud : checked((int)ParseUInt(baudText, "Baud"));
        var t = EspTimeouts.Default;
        if (CommandTimeoutMs > 0) t = t with { Command = TimeSpan.FromMilliseconds(CommandTimeoutMs) };
        if (SyncTimeoutMs > 0) t = t with { Sync = TimeSpan.FromMilliseconds(SyncTimeoutMs) };
        if (EraseWriteTimeoutPerMbMs > 0) t = t with { EraseWritePerMegabyte = TimeSpan.FromMilliseconds(EraseWriteTimeoutPerMbMs) };
        if (Md5TimeoutPerMbMs > 0) t = t with { Md5PerMegabyte = TimeSpan.FromMilliseconds(Md5TimeoutPerMbMs) };
        string? stub = NonEmpty(StubFile);
        if (stub is not null && !File.Exists(stub))
            throw new EspException(EspErrorCode.FileNotFound, $"The stub file '{stub}' does not exist.");
        if (stub is not null && NoStub)
            throw new EspException(EspErrorCode.InvalidArgument, "EspNoStub=true and EspStubFile exclude each other.", "Set only one of them.");
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

    private static IReadOnlyList<SerialPortInfo> ListHostPorts()
    {
        var root = Environment.GetEnvironmentVariable(SysfsRootVariable);
        return string.IsNullOrEmpty(root)
            ? PortDiscovery.List()
            : PortDiscovery.ListLinux(Path.Combine(root, "sys"), Path.Combine(root, "dev"));
    }
}
