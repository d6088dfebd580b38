using Esp.Build.Monitor;
using Esp.Protocol.Transport;

namespace Esp.Build.Tasks.Tests;

/// <summary>The monitor `dotnet run` starts (Esp.Build.Monitor), run in-process against virtual chips.</summary>
public sealed class MonitorProgramTests
{
    private const string RomBanner = "ets Jul 29 2019 12:21:46";

    private static async Task<(int ExitCode, string Stdout, string Stderr)> Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int exit = await Esp.Build.Monitor.Program.RunAsync(args, stdout, stderr);
        return (exit, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public async Task ItResetsTheChipAndShowsItsBootOutputUntilTheText()
    {
        var (exit, stdout, stderr) = await Run("--port", "sim:esp32", "--default-port", "", "--baud", "", "--until", "invalid header", "--timeout", "30", "--");
        Assert.True(exit == 0, stderr);
        Assert.StartsWith(RomBanner, stdout.TrimStart());
        Assert.Contains("rst:0x1 (POWERON_RESET)", stdout);
        Assert.Contains("--- found \"invalid header\"", stderr); // remarks go to stderr, the chip's output alone to stdout
        Assert.DoesNotContain("---", stdout);
    }

    [Fact]
    public async Task ATextThatNeverComesFailsWithEsp2016NamingTheProperties()
    {
        var (exit, stdout, stderr) = await Run("--port", "sim:esp32", "--until", "never printed", "--timeout", "0.5");
        Assert.Equal(Esp.Build.Monitor.Program.Failed, exit);
        Assert.Contains(RomBanner, stdout);
        Assert.Contains("error ESP2016", stderr);
        Assert.Contains("EspMonitorTimeoutSeconds", stderr);
    }

    [Fact]
    public async Task ATimeoutWithoutATextEndsTheCaptureWithSuccess()
    {
        var (exit, stdout, stderr) = await Run("--port", "sim:esp32c3", "--timeout", "0.5");
        Assert.True(exit == 0, stderr);
        Assert.Contains("ESP-ROM:esp32c3", stdout);
        Assert.Contains("s are up", stderr);
    }

    [Fact]
    public async Task CtrlCEndsTheMonitorNormally()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(1));
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int exit = await Esp.Build.Monitor.Program.RunAsync(["--port", "sim:esp32"], stdout, stderr, cts.Token);
        Assert.True(exit == 0, stderr.ToString());
        Assert.Contains(RomBanner, stdout.ToString());
        Assert.Contains("--- quit ---", stderr.ToString());
    }

    [Fact]
    public async Task AMissingSerialPortIsAwaitedUntilCtrlC()
    {
        // A board's USB-Serial/JTAG is gone for a moment after the deploy's reset: the monitor waits for it.
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(500));
        var stderr = new StringWriter();
        int exit = await Esp.Build.Monitor.Program.RunAsync(["--port", "/dev/ttyNotThere0"], new StringWriter(), stderr, cts.Token);
        Assert.Equal(0, exit);
        Assert.Contains("--- quit ---", stderr.ToString());
    }

    [Fact]
    public async Task EspMonitorFalseOnlySaysSoAndApplicationArgumentsAreNotPassedOn()
    {
        var (exit, stdout, stderr) = await Run("--no-monitor", "--port", "sim:esp32", "--", "app", "args");
        Assert.Equal(0, exit);
        Assert.Empty(stdout);
        Assert.Contains("EspMonitor=false", stderr);
        Assert.Contains("(app args) are not passed on", stderr);
    }

    [Theory]
    [InlineData("--baud", "fast", "EspMonitorBaud")]
    [InlineData("--timeout", "-1", "EspMonitorTimeoutSeconds")]
    [InlineData("--colour", "yes", "'--colour' is not an option")]
    public async Task BadSettingsAreUsageErrorsNamingTheProperty(string option, string value, string expected)
    {
        var (exit, _, stderr) = await Run(option, value);
        Assert.Equal(Esp.Build.Monitor.Program.Usage, exit);
        Assert.Contains(expected, stderr);
    }

    [Fact]
    public void ThePortComesFromTheDeviceThenEsptoolPortThenTheDefaultPortThenTheOnlyBridge()
    {
        IReadOnlyList<SerialPortInfo> OneBridge() => [new SerialPortInfo("/dev/ttyS0"), new SerialPortInfo("/dev/ttyUSB3", 0x1A86, 0x7523)];
        var all = MonitorArguments.Parse(["--port", "/dev/ttyUSB1", "--default-port", "sim:esp32"]);
        Assert.Equal("/dev/ttyUSB1", Esp.Build.Monitor.Program.ResolvePort(all, "/dev/ttyUSB2", OneBridge));
        var noDevice = all with { Port = null };
        Assert.Equal("/dev/ttyUSB2", Esp.Build.Monitor.Program.ResolvePort(noDevice, "/dev/ttyUSB2", OneBridge));
        Assert.Equal("sim:esp32", Esp.Build.Monitor.Program.ResolvePort(noDevice, " ", OneBridge));
        Assert.Equal("/dev/ttyUSB3", Esp.Build.Monitor.Program.ResolvePort(noDevice with { DefaultPort = null }, null, OneBridge));
        var none = Assert.Throws<Esp.Protocol.Errors.EspException>(() =>
            Esp.Build.Monitor.Program.ResolvePort(noDevice with { DefaultPort = null }, null, () => []));
        Assert.Equal("ESP2003", none.CodeText);
        Assert.Contains("--list-devices", none.Help);
    }
}
