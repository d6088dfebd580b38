using System.CommandLine;
using System.Text.Json.Nodes;
using Esp.Protocol.Errors;
using Esp.Protocol.Loader;
using Esp.Protocol.Operations;
using Esp.Protocol.Transport;

namespace Esp.Cli;

/// <summary>What a running command has at hand: its parsed arguments, the output, the host and the chip connection.</summary>
internal sealed class CliContext
{
    private GlobalSettings? _settings;

    public CliContext(ParseResult parse, GlobalOptions globals, CliCommand command, Output output, CliHost host, CancellationToken cancellationToken)
    {
        Parse = parse;
        Globals = globals;
        Command = command;
        Output = output;
        Host = host;
        CancellationToken = cancellationToken;
    }

    public ParseResult Parse { get; }
    public GlobalOptions Globals { get; }
    public CliCommand Command { get; }
    public Output Output { get; }
    public CliHost Host { get; }
    public CancellationToken CancellationToken { get; }

    /// <summary>Compressed images shared with the same command on other boards; null for a single board.</summary>
    public CompressionCache? Compression { get; private init; }

    /// <summary>The chip the last session connected to (for the report of a run on several boards).</summary>
    public Connection? Connected { get; private set; }

    /// <summary>Where a session got to: the port used, the chip, its factory MAC (one board of several) and how many times it resumed.</summary>
    internal sealed record Connection(string Port, string Chip, string ChipName, int Resumes, string? Mac = null);

    /// <summary>This context is one board of several: its report names the board's MAC, so every session reads it.</summary>
    private bool OneOfSeveral { get; init; }

    /// <summary>
    /// The same command line on one board: its own port, output and cancellation, the other settings as resolved here.
    /// <paramref name="compression"/> is shared by the boards of one run, so each payload is compressed once.
    /// </summary>
    public CliContext ForBoard(string port, Output output, CancellationToken cancellationToken, CompressionCache? compression = null) =>
        new(Parse, Globals, Command, output, Host, cancellationToken)
        {
            _settings = Settings with { Port = port },
            Compression = compression,
            OneOfSeveral = true,
        };

    public T? Value<T>(Option<T> option) => Parse.GetValue(option);
    public T? Value<T>(Argument<T> argument) => Parse.GetValue(argument);

    /// <summary>A file that must exist (checked before connecting, so a typo costs no reset).</summary>
    public string InputFile(string? path)
    {
        if (string.IsNullOrEmpty(path)) throw UsageException.Invalid("A file name is required.");
        var full = Host.ResolvePath(path);
        if (!File.Exists(full))
            throw new UsageException(EspErrorCode.FileNotFound, $"The file '{path}' does not exist.");
        return full;
    }

    public byte[] ReadInputFile(string? path)
    {
        var full = InputFile(path);
        var data = File.ReadAllBytes(full);
        return data;
    }

    /// <summary>A file to be written; its directory must exist.</summary>
    public string OutputFile(string? path)
    {
        if (string.IsNullOrEmpty(path)) throw UsageException.Invalid("An output file name is required.");
        var full = Host.ResolvePath(path);
        var dir = Path.GetDirectoryName(full);
        if (!string.IsNullOrEmpty(dir) && !Directory.Exists(dir))
            throw new UsageException(EspErrorCode.FileNotFound, $"The folder for '{path}' does not exist.");
        return full;
    }

    public GlobalSettings Settings => _settings ??= ResolveSettings();

    private GlobalSettings ResolveSettings()
    {
        var config = EsptoolConfig.Load(Host);
        var env = EsptoolEnvironment.Read(Host.GetEnvironmentVariable);
        var defaults = GlobalSettings.Defaults;

        // Several ports never get here: they run the command once per board (MultiBoard).
        var port = Value(Globals.Port) is [var only] ? only : env.Port;
        var baudText = Value(Globals.Baud) ?? env.Baud;
        int baud = baudText is null ? defaults.Baud : Numbers.ParseInt(baudText, "baud rate", 300, 20_000_000);
        var chip = GlobalSettings.CheckChip(Value(Globals.Chip) ?? env.Chip ?? defaults.Chip);
        var before = GlobalSettings.CheckChoice(Value(Globals.Before) ?? env.Before ?? defaults.Before, GlobalSettings.BeforeValues, "--before");
        var after = GlobalSettings.CheckChoice(Value(Globals.After) ?? env.After ?? defaults.After, GlobalSettings.AfterValues, "--after");
        var attemptsText = Value(Globals.ConnectAttempts) ?? env.ConnectAttempts;
        int attempts = attemptsText is not null ? Numbers.ParseInt(attemptsText, "number of connect attempts", 0) : config.Integer("connect_attempts") ?? defaults.ConnectAttempts;

        string? stub = Value(Globals.StubFile);
        bool noStub = Value(Globals.NoStub);
        if (stub is not null && noStub)
            throw UsageException.Invalid("--no-stub and --stub-file exclude each other.");
        if (stub is not null) stub = InputFile(stub);

        return new GlobalSettings
        {
            Port = port,
            Baud = baud,
            Chip = chip,
            Before = before,
            After = after,
            StubFile = stub,
            NoStub = noStub,
            Trace = Value(Globals.Trace),
            ConnectAttempts = attempts,
            CustomResetSequence = config.Get("custom_reset_sequence"),
            Timeouts = config.ApplyTimeouts(EspTimeouts.Default),
            Config = config,
        };
    }

    /// <summary>Connects (reset, sync, detect, optional stub, baud), runs <paramref name="body"/>, then does the --after action.</summary>
    public Task<JsonObject> WithSessionAsync(Func<EspSession, Task<JsonObject>> body) =>
        WithResumableSessionAsync(new ResumeOptions { Attempts = 1 }, (session, _) => body(session));

    /// <summary>
    /// As <see cref="WithSessionAsync"/>, but when the session fails on the way (a dropped link, a port that
    /// re-enumerated) it reconnects as <paramref name="resume"/> says and runs <paramref name="body"/> again, which must
    /// then finish the job from what the chip holds.
    /// </summary>
    public async Task<JsonObject> WithResumableSessionAsync(ResumeOptions resume, Func<EspSession, ResumeAttempt, Task<JsonObject>> body)
    {
        var s = Settings;
        if (s.Config.Path is { } cfg)
        {
            Output.Status($"Loaded custom configuration from {cfg}");
            foreach (var key in s.Config.UnknownKeys) Output.Warning($"ignoring unknown option '{key}' in {cfg}");
        }
        var options = new ConnectOptions
        {
            Port = s.Port ?? ChooseDefaultPort(),
            Baud = s.Baud,
            Chip = s.Chip,
            Before = s.Before,
            After = s.After,
            StubFile = s.StubFile,
            NoStub = s.NoStub,
            CustomResetSequence = s.CustomResetSequence,
            ConnectAttempts = s.ConnectAttempts,
            Timeouts = s.Timeouts,
            Trace = s.Trace ? TraceWriter(Output) : null,
            Log = Output.Status,
        };
        resume = resume with { Log = resume.Log ?? Output.Warning };
        return await ResumableRun.RunAsync(ResumableRun.ConnectorFor(options, resume, Host.ListPorts), async (session, attempt, _) =>
        {
            string port = session.Options.Port;
            string? mac = Connected?.Mac;
            if (OneOfSeveral && mac is null && !session.SecureDownloadMode)
                mac = await ChipInfo.ReadMacAsync(session, CancellationToken).ConfigureAwait(false);
            Connected = new Connection(port, session.Chip.Key, session.Chip.Name, attempt.Number - 1, mac);
            Output.Completed.Add($"{(attempt.IsResume ? "reconnected" : "connected")} to {session.Chip.Name} on {port}");
            var result = await body(session, attempt).ConfigureAwait(false);
            var envelope = new JsonObject
            {
                ["port"] = port,
                ["chip"] = session.Chip.Key,
                ["chipName"] = session.Chip.Name,
                ["loader"] = session.Loader.Kind == LoaderKind.FlasherStub ? "stub" : "rom",
            };
            if (attempt.IsResume) envelope["resumes"] = attempt.Number - 1;
            foreach (var (k, v) in result.ToList())
            {
                result.Remove(k);
                envelope[k] = v;
            }
            return envelope;
        }, resume, CancellationToken).ConfigureAwait(false);
    }

    /// <summary>No port given: the one known ESP USB bridge, else an error listing the candidates.</summary>
    internal string ChooseDefaultPort()
    {
        var chosen = PortDiscovery.ChooseDefault(Host.ListPorts());
        Output.Status($"Using port {chosen}");
        return chosen.Path;
    }

    private static Action<WireTraceEvent> TraceWriter(Output output) => ev =>
    {
        var bytes = ev.Packet.Span;
        var hex = Convert.ToHexStringLower(bytes[..Math.Min(bytes.Length, 256)]);
        output.Trace($"TRACE {(ev.FromHost ? "host->chip" : "chip->host")} {ev.Kind} {bytes.Length}B {hex}{(bytes.Length > 256 ? "…" : "")}");
    };
}
