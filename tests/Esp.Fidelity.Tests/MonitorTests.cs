using Esp.Fidelity.Tests.Emulator;
using Esp.Protocol.Monitor;
using Esp.Protocol.Operations;

namespace Esp.Fidelity.Tests;

/// <summary>The serial monitor engine on the real ROMs' UART: a program started with load_ram prints, the monitor reads it.</summary>
public class MonitorTests
{
    private sealed class Lines : IMonitorSink
    {
        public List<string> Complete { get; } = [];
        private string _current = "";

        public void Text(MonitorText text)
        {
            _current = text.StartsLine ? text.Text : _current + text.Text;
            if (!text.EndsLine) return;
            lock (Complete) Complete.Add(_current);
        }
    }

    [Theory]
    [InlineData("esp32")]
    [InlineData("esp32c3")]
    public async Task TheMonitorSeesWhatAProgramInRamPrints(string chip)
    {
        var (segment, entry) = TinyPrograms.Printer(chip, "MONITOR OK\r\n");
        await QemuChip.RunAsync(chip, null, async qemu =>
        {
            await using (var session = await qemu.ConnectAsync(stub: false))
                await RamLoader.LoadAsync(session, [segment], entry);

            // A new connection, as a monitor started after the flashing tool: QEMU's socket has no DTR/RTS, so the
            // reset into the application is skipped with a warning and the program goes on printing.
            var warnings = new List<string>();
            var lines = new Lines();
            var result = await SerialMonitor.RunAsync(new MonitorOptions
            {
                Port = qemu.PortUri,
                Until = "MONITOR OK",
                Timeout = TimeSpan.FromSeconds(30),
                Warning = warnings.Add,
            }, lines);

            Assert.True(result.Outcome == MonitorOutcome.Matched, $"{result.Outcome}: {result.BytesReceived} bytes");
            Assert.False(result.ResetIntoApp);
            Assert.Contains(warnings, w => w.Contains("cannot drive DTR/RTS", StringComparison.Ordinal));
            Assert.EndsWith("MONITOR OK", result.MatchedLine);

            // Whole lines come through as the program prints them (CR LF endings, nothing escaped).
            var more = new Lines();
            var second = await SerialMonitor.RunAsync(new MonitorOptions { Port = qemu.PortUri, ResetIntoApp = false, Timeout = TimeSpan.FromSeconds(2) }, more);
            Assert.True(second.Succeeded);
            Assert.True(more.Complete.Count >= 2, $"{more.Complete.Count} lines in 2 s");
            Assert.All(more.Complete.Skip(1), line => Assert.Equal("MONITOR OK", line));
        });
    }
}
