using System.CommandLine;
using System.CommandLine.Help;
using System.Text.Json.Nodes;
using Esp.Protocol.Errors;

namespace Esp.Cli;

/// <summary>The <c>dotnet esp</c> entry points.</summary>
public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        using var cts = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            // First Ctrl+C: cancel the work and let the command report what it did. A second one kills the process.
            if (cts.IsCancellationRequested) return;
            e.Cancel = true;
            cts.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        try
        {
            return await RunAsync(args, Console.Out, Console.Error, CliHost.FromProcess(), cts.Token).ConfigureAwait(false);
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }

    /// <summary>
    /// Runs one command line in-process. Text for people and JSON go to <paramref name="stdout"/>, errors and
    /// warnings to <paramref name="stderr"/>. Returns 0 (ok), 1 (the operation failed), 2 (usage) or 130 (cancelled).
    /// </summary>
    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, CliHost? host = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(args);
        host ??= new CliHost();
        Startup.EnsureInitialized();
        var app = new CliApp();
        var argv = ArgumentNormalizer.Normalize(args, app);
        var parse = app.Root.Parse(argv);

        bool json = parse.GetValue(app.Globals.Json) || argv.Contains("--json");
        bool color = host.IsTerminal && string.IsNullOrEmpty(host.GetEnvironmentVariable("NO_COLOR"))
                     && !string.Equals(host.GetEnvironmentVariable("TERM"), "dumb", StringComparison.Ordinal);
        var output = new Output(stdout, stderr, json, host.IsTerminal, color, host.Width, host.ProgressInterval);
        var command = app.Find(parse.CommandResult.Command);

        try
        {
            if (parse.Errors.Count > 0 && !(parse.Action is HelpAction))
                return UsageError(output, app, command, PickError(parse), argv);
            if (parse.Action is not null)
            {
                // --help and --version: System.CommandLine's own actions (our commands have none).
                return await parse.InvokeAsync(new InvocationConfiguration { Output = stdout, Error = stderr }, cancellationToken).ConfigureAwait(false);
            }
            if (command is null)
                return UsageError(output, app, null, argv.Length == 0 ? "No command was given." : "No command was given.", argv);

            var ctx = new CliContext(parse, app.Globals, command, output, host, cancellationToken);
            var boards = MultiBoard.Boards(ctx);
            if (boards is { Count: > 1 }) return await MultiBoard.RunAsync(ctx, boards).ConfigureAwait(false);
            if (boards is [var board]) ctx = ctx.ForBoard(board.Port, output, cancellationToken);
            var payload = await command.Run(ctx).ConfigureAwait(false);
            if (json)
            {
                var doc = new JsonObject { ["command"] = command.Name, ["ok"] = true, ["exitCode"] = ExitCodes.Ok };
                Merge(doc, payload);
                output.WriteJson(doc);
            }
            return ExitCodes.Ok;
        }
        catch (UsageException ex)
        {
            return Fail(output, command, ex, ExitCodes.Usage, usage: command?.UsageLine ?? app.UsageLine, payload: null);
        }
        catch (CommandFailedException ex) when (!IsCancellation(ex.Error, cancellationToken))
        {
            return Fail(output, command, ex.Error, ExitCodeFor(ex.Error), usage: null, payload: ex.Payload);
        }
        catch (Exception ex) when (IsCancellation(ex, cancellationToken))
        {
            return Cancelled(output, command);
        }
        catch (EspException ex)
        {
            int code = ExitCodeFor(ex);
            return Fail(output, command, ex, code, usage: code == ExitCodes.Usage ? command?.UsageLine : null, payload: null);
        }
        catch (Exception ex)
        {
            return Fail(output, command, AsEspException(ex), ExitCodes.Failed, usage: null, payload: null);
        }
        finally
        {
            output.Flush();
        }
    }

    /// <summary>1xxx codes are mistakes in what the user asked for: exit 2. Everything else: 1.</summary>
    internal static int ExitCodeFor(EspException ex) =>
        ex.Code == EspErrorCode.Cancelled ? ExitCodes.Cancelled
        : (int)ex.Code is >= 1000 and < 2000 ? ExitCodes.Usage
        : ExitCodes.Failed;

    internal static bool IsCancellation(Exception ex, CancellationToken ct) =>
        ex is OperationCanceledException && ct.IsCancellationRequested
        || ex is EspException { Code: EspErrorCode.Cancelled }
        || ex.InnerException is OperationCanceledException && ct.IsCancellationRequested;

    /// <summary>An exception that is not one of ours, as a coded error (a file or device problem, or a bug).</summary>
    internal static EspException AsEspException(Exception ex) => ex switch
    {
        EspException esp => esp,
        IOException or UnauthorizedAccessException => new EspException(EspErrorCode.Internal, ex.Message, "Check the file or device and its permissions."),
        _ => new EspException(EspErrorCode.Internal, $"{ex.GetType().Name}: {ex.Message}",
            "This is a bug in dotnet esp; run again with --trace and report the output."),
    };

    /// <summary>The most telling parse error: an unknown word beats "no command given".</summary>
    private static string PickError(ParseResult parse) =>
        (parse.Errors.FirstOrDefault(e => e.Message.StartsWith("Unrecognized", StringComparison.Ordinal)) ?? parse.Errors[0]).Message;

    private static int UsageError(Output output, CliApp app, CliCommand? command, string message, string[] argv)
    {
        var ex = new UsageException(EspErrorCode.InvalidArgument, TidyParserMessage(message, argv, app),
            command is null ? "Run 'dotnet esp --help' to see the commands." : $"Run 'dotnet esp {command.Name} --help' for details.");
        return Fail(output, command, ex, ExitCodes.Usage, command?.UsageLine ?? app.UsageLine, payload: null);
    }

    /// <summary>System.CommandLine's sentences, made to name the esptool concepts.</summary>
    private static string TidyParserMessage(string message, string[] argv, CliApp app)
    {
        const string unrecognized = "Unrecognized command or argument '";
        if (message.StartsWith(unrecognized, StringComparison.Ordinal))
        {
            var token = message[unrecognized.Length..].TrimEnd('.', '\'');
            bool noCommandYet = !argv.Any(a => app.Find(a) is not null);
            if (noCommandYet && !token.StartsWith('-'))
            {
                var near = app.Suggest(token);
                return $"Unknown command '{token}'." + (near is null ? "" : $" Did you mean '{near}'?");
            }
            return token.StartsWith('-') ? $"Unknown option '{token}'." : $"Unexpected argument '{token}'.";
        }
        return message.TrimEnd('.') + ".";
    }

    private static int Fail(Output output, CliCommand? command, EspException ex, int exitCode, string? usage, JsonObject? payload)
    {
        output.Error(ex.CodeText, ex.Message, ex.Help);
        if (usage is not null) output.ErrorLine(usage);
        if (output.Json)
        {
            var doc = new JsonObject
            {
                ["command"] = command?.Name,
                ["ok"] = false,
                ["exitCode"] = exitCode,
                ["error"] = new JsonObject
                {
                    ["code"] = ex.CodeText,
                    ["name"] = ex.Code.ToString(),
                    ["message"] = ex.Message,
                    ["help"] = ex.Help,
                },
            };
            if (payload is not null) Merge(doc, payload);
            output.WriteJson(doc);
        }
        return exitCode;
    }

    private static int Cancelled(Output output, CliCommand? command)
    {
        var done = output.Completed.Count == 0 ? "nothing was completed" : "done: " + string.Join("; ", output.Completed);
        string? partial = output.LastProgress is { } p && p.Done < p.Total ? $"{p.Operation} stopped at {p.Done} of {p.Total} bytes" : null;
        output.ErrorLine($"cancelled: {done}{(partial is null ? "" : "; " + partial)}.");
        if (output.Json)
        {
            var doc = new JsonObject
            {
                ["command"] = command?.Name,
                ["ok"] = false,
                ["exitCode"] = ExitCodes.Cancelled,
                ["cancelled"] = true,
                ["completed"] = new JsonArray(output.Completed.Select(c => (JsonNode?)JsonValue.Create(c)).ToArray()),
            };
            if (output.LastProgress is { } lp)
                doc["progress"] = new JsonObject { ["operation"] = lp.Operation, ["done"] = lp.Done, ["total"] = lp.Total };
            output.WriteJson(doc);
        }
        return ExitCodes.Cancelled;
    }

    private static void Merge(JsonObject target, JsonObject payload)
    {
        foreach (var (k, v) in payload.ToList())
        {
            payload.Remove(k);
            target[k] = v;
        }
    }
}

/// <summary>One-time process set-up (registering the virtual chip's <c>sim:</c> ports).</summary>
internal static class Startup
{
    private static int _done;

    public static void EnsureInitialized()
    {
        if (Interlocked.Exchange(ref _done, 1) == 1) return;
        Esp.Simulator.Link.SimulatorPort.Register();
    }
}
