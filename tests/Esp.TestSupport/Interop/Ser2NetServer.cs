using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Esp.TestSupport.Interop;

/// <summary>
/// ser2net as a child process, serving one serial device as an RFC 2217 port on 127.0.0.1, configured the way a remote
/// lab configures it: <c>accepter: telnet(rfc2217),tcp,…</c>, <c>connector: serialdev,DEVICE,115200n81,local</c>. Runs in
/// the foreground (<c>-n -d</c>) with its own YAML file in a private folder, no admin port, no UUCP lock files. Killed
/// (and the folder removed) on dispose, whatever the test did; <see cref="Kill"/> and <see cref="StartAgainAsync"/>
/// take the server away and bring it back on the same port.
/// </summary>
public sealed class Ser2NetServer : IAsyncDisposable
{
    private static readonly TimeSpan StartLimit = TimeSpan.FromSeconds(30);

    private readonly string _directory;
    private readonly string _config;
    private readonly StringBuilder _output = new();
    private Process? _process;

    private Ser2NetServer(string device, int port, string directory)
    {
        Device = device;
        Port = port;
        _directory = directory;
        _config = Path.Combine(directory, "ser2net.yaml");
    }

    /// <summary>The serial device ser2net serves, e.g. a pseudo-terminal's <c>/dev/pts/N</c>.</summary>
    public string Device { get; }

    public int Port { get; }

    /// <summary>The port for the engine: <c>rfc2217://127.0.0.1:PORT</c>.</summary>
    public string Uri => $"rfc2217://127.0.0.1:{Port.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>What ser2net printed since it was last started (for failure messages).</summary>
    public string Output
    {
        get { lock (_output) return _output.ToString(); }
    }

    public bool IsRunning => _process is { HasExited: false };

    /// <summary>Starts ser2net for <paramref name="device"/> on a free port and returns once the port listens.</summary>
    public static async Task<Ser2NetServer> StartAsync(string device, CancellationToken ct = default)
    {
        var directory = Directory.CreateTempSubdirectory("esp-ser2net-").FullName;
        for (int attempt = 1; ; attempt++)
        {
            var server = new Ser2NetServer(device, FreePort(), directory);
            try
            {
                await server.StartAgainAsync(ct).ConfigureAwait(false);
                return server;
            }
            catch (InvalidOperationException) when (attempt < 3)
            {
                // The free port was taken between choosing it and ser2net binding it: choose another.
                server.Stop(deleteDirectory: false);
            }
            catch
            {
                await server.DisposeAsync().ConfigureAwait(false);
                throw;
            }
        }
    }

    /// <summary>(Re)starts ser2net on <see cref="Port"/> and waits until the port listens.</summary>
    public async Task StartAgainAsync(CancellationToken ct = default)
    {
        if (IsRunning) throw new InvalidOperationException("ser2net is already running.");
        _process?.Dispose();
        lock (_output) _output.Clear();
        await File.WriteAllTextAsync(_config, Yaml(Device, Port), ct).ConfigureAwait(false);
        var psi = new ProcessStartInfo(InteropTools.Require(InteropTool.Ser2Net))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var a in new[] { "-n", "-d", "-u", "-c", _config }) psi.ArgumentList.Add(a);
        var process = new Process { StartInfo = psi };
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;

        var deadline = Stopwatch.StartNew();
        while (!Listening(Port))
        {
            if (process.HasExited)
                throw new InvalidOperationException($"ser2net exited with {process.ExitCode} before listening on {Port}:\n{Output}");
            if (Output.Contains("Unable to startup network port", StringComparison.Ordinal))
            {
                // ser2net keeps running without the port (taken meanwhile by someone else).
                Kill();
                throw new InvalidOperationException($"ser2net could not listen on {Port}:\n{Output}");
            }
            if (deadline.Elapsed > StartLimit)
            {
                Kill();
                throw new InvalidOperationException($"ser2net did not listen on {Port} within {StartLimit.TotalSeconds} s:\n{Output}");
            }
            await Task.Delay(20, ct).ConfigureAwait(false);
        }
    }

    /// <summary>Kills ser2net at once (SIGKILL) and waits until it is gone: its clients see the connection drop.</summary>
    public void Kill()
    {
        if (_process is not { } p) return;
        try
        {
            if (!p.HasExited) p.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Exited on its own meanwhile.
        }
        p.WaitForExit(TimeSpan.FromSeconds(30));
    }

    /// <summary>The YAML for one connection; <c>local</c> because a pseudo-terminal has no modem lines to watch.</summary>
    public static string Yaml(string device, int port) => string.Join('\n',
        "connection: &esp",
        $"  accepter: telnet(rfc2217),tcp,127.0.0.1,{port.ToString(CultureInfo.InvariantCulture)}",
        $"  connector: serialdev,{device},115200n81,local",
        "  options:",
        "    kickolduser: true",
        "    mdns: false",
        "");

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_output) _output.AppendLine(line);
    }

    /// <summary>
    /// Whether something listens on 127.0.0.1:<paramref name="port"/>, read from the kernel's socket table: a test
    /// connection would make ser2net open the device and close it again, which is not what a check should do.
    /// </summary>
    private static bool Listening(int port)
    {
        string local = $"0100007F:{port:X4}";
        foreach (var line in File.ReadLines("/proc/net/tcp").Skip(1))
        {
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length > 3 && fields[1] == local && fields[3] == "0A") return true; // 0A: LISTEN
        }
        return false;
    }

    private static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    private void Stop(bool deleteDirectory)
    {
        Kill();
        _process?.Dispose();
        _process = null;
        if (deleteDirectory)
        {
            try { Directory.Delete(_directory, recursive: true); }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
    }

    public ValueTask DisposeAsync()
    {
        Stop(deleteDirectory: true);
        return ValueTask.CompletedTask;
    }
}
