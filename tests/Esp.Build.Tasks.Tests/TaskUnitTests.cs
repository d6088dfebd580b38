using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Esp.Protocol.Images;
using Esp.Protocol.Transport;
using Microsoft.Build.Utilities;

namespace Esp.Build.Tasks.Tests;

/// <summary>Tasks run in-process with a fake build engine: parameter checks, error mapping, composition, cancellation.</summary>
public sealed class TaskUnitTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("espbuild-unit-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static T With<T>(T task, out FakeBuildEngine engine) where T : Microsoft.Build.Utilities.Task
    {
        engine = new FakeBuildEngine();
        task.BuildEngine = engine;
        return task;
    }

    [Fact]
    public void NonVolatileStatusWriteIsRefusedWithoutConsent()
    {
        var task = With(new EspWriteFlashStatus { Port = "socket://127.0.0.1:1", Value = "0", NonVolatile = true }, out var engine);
        Assert.False(task.Execute());
        Assert.Equal("ESP1020", engine.SingleErrorCode);
        Assert.Contains("EspAllowNonVolatileStatusWrite=true", engine.Errors[0].Message);
        Assert.Equal("ESP1020", engine.Errors[0].HelpKeyword);
        Assert.EndsWith("/docs/errors.md#esp1020", engine.Errors[0].HelpLink);
        Assert.Null(engine.Errors[0].Subcategory); // "file(1): Esp.Build error ..." would hide the error from problem matchers
    }

    [Fact]
    public void ErrorsCarryCodeAndHelpButNoStackTrace()
    {
        // Nothing listens on port 1: the connection is refused.
        var task = With(new EspChipInfo { Port = "socket://127.0.0.1:1", Before = "no-reset", ConnectAttempts = 1 }, out var engine);
        Assert.False(task.Execute());
        Assert.Single(engine.Errors);
        Assert.StartsWith("ESP", engine.Errors[0].Code);
        Assert.DoesNotContain("   at ", engine.Errors[0].Message);
    }

    [Fact]
    public void SilentChipFailsWithNoSyncReply()
    {
        using var listener = new SilentServer();
        var task = With(new EspChipInfo { Port = listener.Port, Before = "no-reset", ConnectAttempts = 1 }, out var engine);
        Assert.False(task.Execute());
        Assert.Equal("ESP2006", engine.SingleErrorCode);
    }

    [Fact]
    public async System.Threading.Tasks.Task CancelStopsAConnectingTaskPromptly()
    {
        using var listener = new SilentServer();
        var task = With(new EspChipInfo { Port = listener.Port, Before = "no-reset", ConnectAttempts = 0 }, out var engine);
        var sw = Stopwatch.StartNew();
        var run = System.Threading.Tasks.Task.Run(task.Execute);
        await System.Threading.Tasks.Task.Delay(400);
        task.Cancel();
        var finished = await System.Threading.Tasks.Task.WhenAny(run, System.Threading.Tasks.Task.Delay(TimeSpan.FromSeconds(5)));
        Assert.True(finished == run, "the task did not stop after Cancel()");
        Assert.False(await run);
        Assert.Equal("ESP9001", engine.SingleErrorCode);
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(5));
    }

    [Fact]
    public void BadNumberIsReportedAsEsp1002()
    {
        var task = With(new EspReadMem { Port = "socket://127.0.0.1:1", Address = "0xZZ", Before = "no-reset", ConnectAttempts = 1 }, out var engine);
        using var listener = new SilentServer();
        task.Port = listener.Port;
        Assert.False(task.Execute());
        // The address is parsed after connecting; a silent chip fails first, so check the parser directly too.
        Assert.Throws<Esp.Protocol.Errors.EspException>(() => Numbers.ParseUInt("0xZZ", "Address"));
        Assert.Equal(0x1000u, Numbers.ParseUInt("4k", "x"));
        Assert.Equal(0x400000u, Numbers.ParseUInt("4MB", "x"));
        Assert.Equal(0x1C0000u, Numbers.ParseUInt("0x1C0000", "x"));
        Assert.Equal(4096u, Numbers.ParseUInt("4096", "x"));
        // The command line's spellings work in properties too.
        Assert.Equal(1024u, Numbers.ParseUInt("1KiB", "x"));
        Assert.Equal(5u, Numbers.ParseUInt("0b101", "x"));
        Assert.Equal(0x4000u, Numbers.ParseUInt("0x10k", "x"));
        var e = Assert.Throws<Esp.Protocol.Errors.EspException>(() => Numbers.ParseUInt("12q", "Address of 'a.bin'"));
        Assert.Equal(Esp.Protocol.Errors.EspErrorCode.InvalidNumber, e.Code);
        Assert.Equal("Address of 'a.bin' '12q' is not a number.", e.Message);
    }

    [Fact]
    public void ComposesNanoFrameworkImagePaddedAndWarnsWhenTheAppPeIsMissing()
    {
        var a = Pe("NFMRK1", 9);
        var b = Pe("NFMRK1", 16);
        File.WriteAllBytes(Path.Combine(_dir, "mscorlib.pe"), a);
        File.WriteAllBytes(Path.Combine(_dir, "Other.pe"), b);
        var output = Path.Combine(_dir, "out", "deploy.bin");
        var task = With(new EspComposeNanoFrameworkDeployment
        {
            ApplicationPe = Path.Combine(_dir, "App.pe"),
            ReferencePe = [new TaskItem(Path.Combine(_dir, "mscorlib.pe")), new TaskItem(Path.Combine(_dir, "Other.pe"))],
            OutputFile = output,
        }, out var engine);
        Assert.True(task.Execute(), engine.Log);
        var image = File.ReadAllBytes(output);
        Assert.Equal(12 + 16, image.Length);
        Assert.Equal(a, image[..9]);
        Assert.Equal(new byte[3], image[9..12]);
        Assert.Equal(b, image[12..]);
        Assert.False(task.ApplicationIncluded);
        Assert.Equal("ESP4100", Assert.Single(engine.Warnings).Code);
        Assert.Equal(2, task.Assemblies.Length);
    }

    [Fact]
    public void ComposeRefusesAFileThatIsNotAPe()
    {
        File.WriteAllBytes(Path.Combine(_dir, "bad.pe"), Encoding.ASCII.GetBytes("MZ not a pe"));
        var task = With(new EspComposeNanoFrameworkDeployment
        {
            ReferencePe = [new TaskItem(Path.Combine(_dir, "bad.pe"))],
            OutputFile = Path.Combine(_dir, "deploy.bin"),
        }, out var engine);
        Assert.False(task.Execute());
        Assert.Equal("ESP1010", engine.SingleErrorCode);
    }

    [Fact]
    public void MakesANanoFrameworkPartitionTableWithADeployPartition()
    {
        var output = Path.Combine(_dir, "pt.bin");
        var task = With(new EspMakePartitionTable { OutputFile = output }, out var engine);
        Assert.True(task.Execute(), engine.Log);
        var table = PartitionTable.Parse(File.ReadAllBytes(output));
        var deploy = table.Find(PartitionTable.TypeData, NanoFrameworkDeployment.DeployPartitionSubType);
        Assert.NotNull(deploy);
        var stamp = File.GetLastWriteTimeUtc(output);
        Thread.Sleep(20);
        Assert.True(With(new EspMakePartitionTable { OutputFile = output }, out _).Execute());
        Assert.Equal(stamp, File.GetLastWriteTimeUtc(output)); // unchanged content keeps the timestamp

        var custom = Path.Combine(_dir, "custom.bin");
        var item = new TaskItem("deploy");
        item.SetMetadata("Type", "data");
        item.SetMetadata("SubType", "deploy");
        item.SetMetadata("Offset", "0x10000");
        item.SetMetadata("Size", "0x10000");
        Assert.True(With(new EspMakePartitionTable { OutputFile = custom, Partitions = [item] }, out var e2).Execute(), e2.Log);
        Assert.Equal(0x10000u, PartitionTable.Parse(File.ReadAllBytes(custom)).FindByLabel("deploy")!.Size);
    }

    [Fact]
    public void WriteFlashRequiresAnAddressOnEveryImage()
    {
        using var listener = new SilentServer();
        File.WriteAllBytes(Path.Combine(_dir, "a.bin"), [1, 2, 3, 4]);
        var task = With(new EspWriteFlash { Port = listener.Port, Before = "no-reset", ConnectAttempts = 1, Images = [new TaskItem(Path.Combine(_dir, "a.bin"))] }, out var engine);
        Assert.False(task.Execute());
        Assert.Single(engine.Errors);
    }

    internal static byte[] Pe(string marker, int length)
    {
        var pe = new byte[length];
        Random.Shared.NextBytes(pe);
        Encoding.ASCII.GetBytes(marker).CopyTo(pe, 0);
        return pe;
    }

    /// <summary>A TCP "chip" that accepts and never answers.</summary>
    private sealed class SilentServer : IDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly List<Socket> _clients = [];

        public SilentServer()
        {
            _listener.Start();
            _ = AcceptLoop();
        }

        public string Port => $"socket://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";

        private async System.Threading.Tasks.Task AcceptLoop()
        {
            try
            {
                while (true)
                {
                    var s = await _listener.AcceptSocketAsync();
                    lock (_clients) _clients.Add(s);
                }
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
            }
        }

        public void Dispose()
        {
            _listener.Stop();
            lock (_clients) foreach (var c in _clients) c.Dispose();
        }
    }
}

/// <summary>Port choice when none is given; the port list is replaced, so these tests do not run in parallel with each other.</summary>
public sealed class PortChoiceTests
{
    [Fact]
    public void NoPortAndNoBridgeFailsWithEsp2003ListingCandidates()
    {
        var e = Assert.Throws<Esp.Protocol.Errors.EspException>(() => EspConnectedTask.ChooseDefaultPort([new SerialPortInfo("/dev/ttyS4")]));
        Assert.Equal("ESP2003", e.CodeText);
        Assert.Contains("/dev/ttyS4", e.Message);
        Assert.Contains("EspPort", e.Help);
    }

    [Fact]
    public void TwoBridgesFailWithEsp2004ListingBoth()
    {
        var e = Assert.Throws<Esp.Protocol.Errors.EspException>(() => EspConnectedTask.ChooseDefaultPort(
            [new SerialPortInfo("/dev/ttyUSB0", 0x10C4, 0xEA60), new SerialPortInfo("/dev/ttyACM0", 0x303A, 0x1001)]));
        Assert.Equal("ESP2004", e.CodeText);
        Assert.Contains("/dev/ttyUSB0", e.Message);
        Assert.Contains("/dev/ttyACM0", e.Message);
    }

    [Fact]
    public void TheOnlyBridgeIsChosen()
    {
        var chosen = EspConnectedTask.ChooseDefaultPort([new SerialPortInfo("/dev/ttyS0"), new SerialPortInfo("/dev/ttyUSB3", 0x1A86, 0x7523)]);
        Assert.Equal("/dev/ttyUSB3", chosen.Path);
    }

    [Fact]
    public void TaskWithoutPortLogsEsp2004()
    {
        var savedEnv = Environment.GetEnvironmentVariable("ESPTOOL_PORT");
        try
        {
            Environment.SetEnvironmentVariable("ESPTOOL_PORT", null);
            var engine = new FakeBuildEngine();
            var task = new EspChipInfo
            {
                BuildEngine = engine,
                ListPorts = () => [new SerialPortInfo("/dev/ttyUSB0", 0x10C4, 0xEA60), new SerialPortInfo("/dev/ttyUSB1", 0x10C4, 0xEA60)],
            };
            Assert.False(task.Execute());
            Assert.Equal("ESP2004", engine.SingleErrorCode);
            Assert.Contains("/dev/ttyUSB1", engine.Errors[0].Message);
        }
        finally
        {
            Environment.SetEnvironmentVariable("ESPTOOL_PORT", savedEnv);
        }
    }
}
