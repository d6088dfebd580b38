using Esp.Protocol.Errors;
using Esp.Protocol.Monitor;
using Esp.Protocol.Transport;

namespace Esp.Build.Monitor;

/// <summary>
/// What <c>dotnet run</c> runs for a project that deploys to a chip: the deploy already happened (DeployToDevice), so
/// this resets the chip into its application and shows what it prints. The chip's output goes to stdout, the
/// monitor's own remarks and errors to stderr. Exit codes: 0 ok, 1 failed, 2 bad settings, 130 stopped while waiting.
/// </summary>
public static class Program
{
    public const int Ok = 0;
    public const int Failed = 1;
    public const int Usage = 2;
    public const int Cancelled = 130;

    private const string PortHelp =
        "Choose the device with `dotnet run --device <port>` (`dotnet run --list-devices` lists them), or set EspPort or ESPTOOL_PORT.";

    public static async Task<int> Main(string[] args)
    {
        using var cts = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            // The first Ctrl+C ends the monitor normally; a second one kills the process.
            if (cts.IsCancellationRequested) return;
            e.Cancel = true;
            cts.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        try
        {
            return await RunAsync(args, Console.Out, Console.Error, cts.Token).ConfigureAwait(false);
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }

    /// <summary>Runs one monitor command line in-process (the chip's output to <paramref name="stdout"/>, remarks to <paramref name="stderr"/>).</summary>
    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        MonitorArguments options;
        try
        {
            options = MonitorArguments.Parse(args);
        }
        catch (ArgumentException ex)
        {
            stderr.WriteLine($"error: {ex.Message}");
            return Usage;
        }
        if (options.ApplicationArguments.Count > 0)
            stderr.WriteLine($"warning: the arguments after -- ({string.Join(' ', options.ApplicationArguments)}) are not passed on: the application runs on the chip.");
        if (options.NoMonitor)
        {
            stderr.WriteLine("Esp.Build: deployed; EspMonitor=false, so the chip's output is not shown.");
            return Ok;
        }

        Esp.Simulator.Link.SimulatorPort.Register();
        try
        {
            var port = ResolvePort(options, Environment.GetEnvironmentVariable("ESPTOOL_PORT"), PortDiscovery.List);
            var result = await SerialMonitor.RunAsync(new MonitorOptions
            {
                Port = await WaitForPortAsync(port, cancellationToken).ConfigureAwait(false),
                Baud = options.Baud,
                Until = options.Until,
                Timeout = options.Timeout,
                Log = line => stderr.WriteLine($"--- {line.TrimEnd('.')}; Ctrl+C quits ---"),
                Warning = line => stderr.WriteLine($"warning: {line}"),
            }, new TextWriterMonitorSink(stdout), cancellationToken).ConfigureAwait(false);
            return Report(result, stdout, stderr);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Ctrl+C while waiting for the port: nothing was monitored yet.
            stderr.WriteLine("--- quit ---");
            return options.Until is null ? Ok : Cancelled;
        }
        catch (EspException ex)
        {
            stderr.WriteLine($"error {ex.CodeText}: {ex.Message}");
            stderr.WriteLine($"  {ex.Help}");
            return ex.Code == EspErrorCode.Cancelled ? Cancelled : Failed;
        }
    }

    /// <summary>The device <c>dotnet run</c> chose, else ESPTOOL_PORT, else EspDefaultPort, else the only ESP USB bridge.</summary>
    internal static string ResolvePort(MonitorArguments options, string? environmentPort, Func<IReadOnlyList<SerialPortInfo>> listPorts) =>
        options.Port
        ?? (string.IsNullOrWhiteSpace(environmentPort) ? null : environmentPort.Trim())
        ?? options.DefaultPort
        ?? PortDiscovery.ChooseDefault(listPorts(), PortHelp).Path;

    /// <summary>
    /// A board whose USB goes away with the chip's reset (the USB-Serial/JTAG of the ESP32-C3, -S3, …) is missing for a
    /// moment after the deploy's reset: give it a few seconds to come back before opening it.
    /// </summary>
    private static async Task<string> WaitForPortAsync(string port, CancellationToken ct)
    {
        if (!OperatingSystem.IsWindows() && File.Exists(port)) return port;
        return await PortWaiter.WaitAsync(port, null, TimeSpan.FromSeconds(5), PortDiscovery.List, ct).ConfigureAwait(false) ?? port;
    }

    private static int Report(MonitorResult result, TextWriter stdout, TextWriter stderr)
    {
        if (result.Error is { Code: EspErrorCode.MonitorTimeout } timeout)
            throw new EspException(timeout.Code, timeout.Message,
                "Check that the application prints the text (EspMonitorUntil) at the baud rate EspMonitorBaud, or allow more time (EspMonitorTimeoutSeconds).");
        if (result.Error is { } error) throw error;
        if (!result.Succeeded)
            throw new EspException(EspErrorCode.Cancelled, $"The monitor was stopped before '{result.Until}' appeared.");
        if (result.Outcome == MonitorOutcome.Stopped) stdout.WriteLine();
        stderr.WriteLine(result.Outcome switch
        {
            MonitorOutcome.Matched => $"--- found \"{result.Until}\" after {result.Elapsed.TotalSeconds:0.0} s ---",
            MonitorOutcome.TimedOut => $"--- {result.Timeout?.TotalSeconds:0.###} s are up ---",
            _ => "--- quit ---",
        });
        return Ok;
    }
}
