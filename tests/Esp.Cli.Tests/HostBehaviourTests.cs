using System.Net;
using System.Net.Sockets;
using Esp.Protocol.Transport;

namespace Esp.Cli.Tests;

public class HostBehaviourTests : IDisposable
{
    private readonly CliRunner _cli = new();
    public void Dispose() => _cli.Dispose();

    [Fact]
    public async Task ListPortsShowsVidPidAndKnownBridges()
    {
        _cli.Ports.Add(new SerialPortInfo("/dev/ttyUSB0", 0x10C4, 0xEA60, "Silicon Labs", "CP2102N"));
        _cli.Ports.Add(new SerialPortInfo("/dev/ttyS0"));
        var r = await _cli.RunAsync("list_ports");
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("/dev/ttyUSB0", r.Stdout);
        Assert.Contains("10C4:EA60", r.Stdout);
        Assert.Contains("ESP bridge (Cp210x)", r.Stdout);
        Assert.Contains("Default port (no --port given): /dev/ttyUSB0", r.Stdout);

        var j = (await _cli.RunAsync("list-ports", "--json")).Json;
        Assert.Equal(2, j.GetProperty("ports").GetArrayLength());
        Assert.True(j.GetProperty("ports")[0].GetProperty("knownBridge").GetBoolean());
        Assert.Equal("10C4:EA60", j.GetProperty("ports")[0].GetProperty("usbId").GetString());
        Assert.False(j.GetProperty("ports")[1].GetProperty("knownBridge").GetBoolean());
        Assert.Equal("/dev/ttyUSB0", j.GetProperty("defaultPort").GetString());
    }

    [Fact]
    public async Task NoPortAndNoBridgeListsCandidates()
    {
        _cli.Ports.Add(new SerialPortInfo("/dev/ttyS0"));
        _cli.Ports.Add(new SerialPortInfo("/dev/ttyS1"));
        var r = await _cli.RunAsync("read_mac");
        Assert.Equal(1, r.ExitCode);
        Assert.StartsWith("error ESP2003:", r.Stderr);
        Assert.Contains("/dev/ttyS0", r.Stderr);
        Assert.Contains("/dev/ttyS1", r.Stderr);
    }

    [Fact]
    public async Task TwoBridgesAreAmbiguous()
    {
        _cli.Ports.Add(new SerialPortInfo("/dev/ttyUSB0", 0x10C4, 0xEA60));
        _cli.Ports.Add(new SerialPortInfo("/dev/ttyACM0", 0x303A, 0x1001));
        var r = await _cli.RunAsync("read_mac");
        Assert.Equal(1, r.ExitCode);
        Assert.StartsWith("error ESP2004:", r.Stderr);
    }

    [Fact]
    public async Task EnvironmentPortBeatsDiscovery()
    {
        _cli.Environment["ESPTOOL_PORT"] = "socket://127.0.0.1:1";
        var r = await _cli.RunAsync("--json", "read_mac");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("127.0.0.1:1", r.Json.GetProperty("error").GetProperty("message").GetString());
    }

    [Fact]
    public async Task NoColourWhenNotATerminalOrWithNoColor()
    {
        _cli.Ports.Add(new SerialPortInfo("/dev/ttyUSB0", 0x10C4, 0xEA60));
        _cli.IsTerminal = true;
        var coloured = await _cli.RunAsync("list_ports");
        Assert.Contains("\u001b[", coloured.Stdout);

        _cli.Environment["NO_COLOR"] = "1";
        var plain = await _cli.RunAsync("list_ports");
        Assert.DoesNotContain("\u001b[", plain.Stdout);
        Assert.Contains("ESP bridge", plain.Stdout);

        _cli.Environment.Remove("NO_COLOR");
        _cli.IsTerminal = false;
        Assert.DoesNotContain("\u001b[", (await _cli.RunAsync("list_ports")).Stdout);
    }

    [Fact]
    public async Task CtrlCWhileConnectingExits130WithoutStackTrace()
    {
        // A peer that accepts the connection and never answers: the CLI keeps trying to sync until cancelled.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var accept = listener.AcceptTcpClientAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(700));
        var r = await _cli.RunAsync(cts.Token, "--port", $"socket://127.0.0.1:{port}", "--connect-attempts", "0", "--json", "read_mac");
        Assert.Equal(130, r.ExitCode);
        Assert.StartsWith("cancelled:", r.Stderr);
        Assert.DoesNotContain("   at ", r.Stderr);
        Assert.True(r.Json.GetProperty("cancelled").GetBoolean());
        (await accept).Dispose();
    }
}
