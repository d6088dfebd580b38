using System.Text;
using System.Threading.Channels;
using Esp.Protocol.Errors;
using Esp.Protocol.Monitor;
using Esp.Protocol.Transport;
using Esp.Simulator;
using Esp.Simulator.Link;

namespace Esp.Protocol.Tests.Monitor;

public class SerialMonitorTests
{
    private const string Esp32FlashBoot = "ets Jul 29 2019 12:21:46\r\n\r\nrst:0x1 (POWERON_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)\r\ninvalid header: 0xffffffff\r\n";

    /// <summary>Collects what the monitor delivers.</summary>
    private sealed class Collector : IMonitorSink
    {
        public MemoryStream Raw { get; } = new();
        public List<MonitorText> Pieces { get; } = [];
        public void Received(ReadOnlySpan<byte> data, DateTimeOffset time) => Raw.Write(data);
        public void Text(MonitorText text) => Pieces.Add(text);
    }

    /// <summary>A link without DTR/RTS whose chip sends what the test pushes; completing it closes the link.</summary>
    private sealed class PushTransport : IEspTransport
    {
        private readonly Channel<byte[]> _chip = Channel.CreateUnbounded<byte[]>();
        public void Send(string text) => _chip.Writer.TryWrite(Encoding.UTF8.GetBytes(text));
        public void Close() => _chip.Writer.Complete();
        public string Name => "socket://test:1";
        public int BaudRate { get; private set; } = 115200;
        public bool SupportsLineControl => false;
        public (int Vid, int Pid)? UsbId => null;
        public Task SetBaudRateAsync(int baud, CancellationToken cancellationToken = default) { BaudRate = baud; return Task.CompletedTask; }
        public Task WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default) => Task.CompletedTask;
        public void DiscardInput() { }
        public Task SetLinesAsync(bool? dtr, bool? rts, CancellationToken cancellationToken = default) => throw new NotSupportedException();
        public ValueTask DisposeAsync() => ValueTask.CompletedTask;

        public async Task<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (!await _chip.Reader.WaitToReadAsync(cancellationToken)) return 0;
            var chunk = await _chip.Reader.ReadAsync(cancellationToken);
            chunk.CopyTo(buffer);
            return chunk.Length;
        }
    }

    [Fact]
    public async Task ResetIntoTheAppShowsTheRomBootTextAndStopsAtTheText()
    {
        await using var chip = new VirtualChip(new VirtualChipOptions { Chip = "esp32", ResetCapacitorDelay = TimeSpan.FromMilliseconds(5) });
        await using var link = SimulatorPort.Connect(chip, "sim:esp32");
        var sink = new Collector();
        var result = await SerialMonitor.RunAsync(new MonitorOptions { Transport = link, Until = "invalid header", Timeout = TimeSpan.FromSeconds(20) }, sink);

        Assert.Equal(MonitorOutcome.Matched, result.Outcome);
        Assert.True(result.Succeeded);
        Assert.Null(result.Error);
        Assert.True(result.ResetIntoApp);
        Assert.Equal("invalid header: 0xffffffff", result.MatchedLine);
        Assert.Equal(Esp32FlashBoot, Encoding.Latin1.GetString(sink.Raw.ToArray()));
        Assert.Equal(["ets Jul 29 2019 12:21:46", "", "rst:0x1 (POWERON_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)", "invalid header: 0xffffffff"],
            Lines(sink.Pieces));
        Assert.Equal(ChipMode.BootedApp, chip.Mode);
    }

    [Fact]
    public async Task TextThatNeverComesTimesOutWithACodedError()
    {
        var link = new PushTransport();
        link.Send("hello\r\n");
        var warnings = new List<string>();
        var result = await SerialMonitor.RunAsync(new MonitorOptions
        {
            Transport = link,
            Until = "never",
            Timeout = TimeSpan.FromMilliseconds(300),
            Warning = warnings.Add,
        }, new Collector());

        Assert.Equal(MonitorOutcome.TimedOut, result.Outcome);
        Assert.False(result.Succeeded);
        Assert.Equal(EspErrorCode.MonitorTimeout, result.Error!.Code);
        Assert.Contains("'never' did not appear within 0.3 s (7 bytes, 1 line received)", result.Error.Message);
        // No DTR/RTS on a socket: said so, not failed.
        Assert.False(result.ResetIntoApp);
        Assert.Contains(warnings, w => w.Contains("cannot drive DTR/RTS", StringComparison.Ordinal));
    }

    [Fact]
    public async Task WithoutTextATimeoutEndsACaptureSuccessfully()
    {
        var link = new PushTransport();
        link.Send("a\r\nb");
        var sink = new Collector();
        var result = await SerialMonitor.RunAsync(new MonitorOptions { Transport = link, ResetIntoApp = false, Timeout = TimeSpan.FromMilliseconds(200) }, sink);
        Assert.Equal(MonitorOutcome.TimedOut, result.Outcome);
        Assert.True(result.Succeeded);
        Assert.Equal(["a", "b"], Lines(sink.Pieces));
        Assert.Equal(3 + 1, result.BytesReceived);
        Assert.Equal(1, result.Lines);
    }

    [Fact]
    public async Task TextIsFoundAcrossPiecesAndBeforeTheLineEnds()
    {
        var link = new PushTransport();
        link.Send("boot\r\nEnter pass");
        link.Send("word: ");
        var result = await SerialMonitor.RunAsync(new MonitorOptions { Transport = link, ResetIntoApp = false, Until = "password:" }, new Collector());
        Assert.Equal(MonitorOutcome.Matched, result.Outcome);
        Assert.Equal("Enter password: ", result.MatchedLine);
    }

    [Fact]
    public async Task CancellationStopsWithoutThrowing()
    {
        var link = new PushTransport();
        link.Send("x");
        using var cts = new CancellationTokenSource(200);
        var result = await SerialMonitor.RunAsync(new MonitorOptions { Transport = link, ResetIntoApp = false, Until = "y" }, new Collector(), cts.Token);
        Assert.Equal(MonitorOutcome.Stopped, result.Outcome);
        Assert.False(result.Succeeded); // the text was still awaited
        Assert.Null(result.Error);
    }

    [Fact]
    public async Task AClosedLinkIsAFailure()
    {
        var link = new PushTransport();
        link.Send("bye\r\n");
        link.Close();
        var result = await SerialMonitor.RunAsync(new MonitorOptions { Transport = link, ResetIntoApp = false }, new Collector());
        Assert.Equal(MonitorOutcome.LinkClosed, result.Outcome);
        Assert.Equal(EspErrorCode.Disconnected, result.Error!.Code);
    }

    [Fact]
    public async Task SinksWriteTimestampedLinesAndTheRawLog()
    {
        var link = new PushTransport();
        link.Send("one\r\ntw");
        link.Send("o\r\nend");
        var text = new StringWriter { NewLine = "\n" };
        var raw = new MemoryStream();
        var clock = new FixedClock(new DateTimeOffset(2026, 3, 4, 13, 5, 7, 89, TimeSpan.Zero));
        await SerialMonitor.RunAsync(new MonitorOptions { Transport = link, ResetIntoApp = false, Until = "end", TimeProvider = clock },
            new CombinedMonitorSink(new TextWriterMonitorSink(text, timestamps: true), new RawLogMonitorSink(raw)));
        Assert.Equal("[13:05:07.089] one\n[13:05:07.089] two\n[13:05:07.089] end", text.ToString());
        Assert.Equal("one\r\ntwo\r\nend", Encoding.UTF8.GetString(raw.ToArray()));
    }

    private static List<string> Lines(List<MonitorText> pieces)
    {
        var lines = new List<string>();
        foreach (var p in pieces)
        {
            if (p.StartsLine || lines.Count == 0) lines.Add(p.Text);
            else lines[^1] += p.Text;
        }
        return lines;
    }

    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
        public override TimeZoneInfo LocalTimeZone => TimeZoneInfo.Utc;
    }
}
