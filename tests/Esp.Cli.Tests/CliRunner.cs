using System.Text.Json;

namespace Esp.Cli.Tests;

/// <summary>The outcome of one in-process run of the CLI.</summary>
public sealed record CliRun(int ExitCode, string Stdout, string Stderr)
{
    public JsonElement Json
    {
        get
        {
            using var doc = JsonDocument.Parse(Stdout);
            return doc.RootElement.Clone();
        }
    }

    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Stdout}\n--- stderr\n{Stderr}";
}

/// <summary>Runs <c>dotnet esp</c> in-process with a clean environment and a private working directory.</summary>
public sealed class CliRunner : IDisposable
{
    public CliRunner()
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("esp-cli-test-").FullName;
        Home = Path.Combine(Directory, "home");
        System.IO.Directory.CreateDirectory(Home);
    }

    public string Directory { get; }
    public string Home { get; }
    public Dictionary<string, string?> Environment { get; } = new();
    public bool IsTerminal { get; set; }
    public bool IsInteractive { get; set; }
    public string? Input { get; set; }
    public List<Esp.Protocol.Transport.SerialPortInfo> Ports { get; } = [];
    public Action? OnReady { get; set; }
    /// <summary>Keys "typed at the terminal" (null: standard input is not a terminal).</summary>
    public Func<CancellationToken, Task<ConsoleKeyInfo>>? ReadKey { get; set; }
    /// <summary>Without a terminal, the longest time between progress lines (null: the CLI's 5 s).</summary>
    public TimeSpan? ProgressInterval { get; set; }

    private StringWriter? _live;

    /// <summary>What the current run has printed so far (for long-running commands such as simulate).</summary>
    public string LiveStdout
    {
        get
        {
            var w = _live;
            if (w is null) return "";
            lock (w) return w.ToString();
        }
    }

    public string PathOf(string name) => Path.Combine(Directory, name);

    public string WriteFile(string name, byte[] data)
    {
        var p = PathOf(name);
        File.WriteAllBytes(p, data);
        return p;
    }

    public async Task<CliRun> RunAsync(params string[] args) => await RunAsync(CancellationToken.None, args);

    public async Task<CliRun> RunAsync(CancellationToken ct, params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        _live = stdout;
        var host = new CliHost
        {
            Environment = Environment,
            CurrentDirectory = Directory,
            HomeDirectory = Home,
            IsTerminal = IsTerminal,
            IsInteractive = IsInteractive,
            Input = Input is null ? null : new StringReader(Input),
            Width = 100,
            PortLister = () => Ports,
            OnReady = OnReady,
            ReadKey = ReadKey,
            ProgressInterval = ProgressInterval,
        };
        int code = await Program.RunAsync(args, new LockedWriter(stdout), new LockedWriter(stderr), host, ct);
        return new CliRun(code, stdout.ToString(), stderr.ToString());
    }

    public void Dispose()
    {
        try { System.IO.Directory.Delete(Directory, recursive: true); } catch (IOException) { }
    }
}

/// <summary>A writer whose every write locks the underlying StringWriter, so tests can read it while a command runs.</summary>
internal sealed class LockedWriter(StringWriter inner) : TextWriter
{
    public override System.Text.Encoding Encoding => inner.Encoding;
    public override void Write(char value) { lock (inner) inner.Write(value); }
    public override void Write(string? value) { lock (inner) inner.Write(value); }
    public override void Write(char[] buffer, int index, int count) { lock (inner) inner.Write(buffer, index, count); }
    public override void WriteLine(string? value) { lock (inner) inner.WriteLine(value); }
    public override void Flush() { }
}
