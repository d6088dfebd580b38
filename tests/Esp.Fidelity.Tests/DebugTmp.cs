using Esp.Fidelity.Tests.Emulator;
using Esp.Protocol.Operations;
namespace Esp.Fidelity.Tests;
public class DebugTmp
{
    [Fact]
    public async Task Loop()
    {
        var summary = new System.Text.StringBuilder();
        for (int i = 0; i < 8; i++)
        {
            var log = new System.Text.StringBuilder();
            var sw = System.Diagnostics.Stopwatch.StartNew();
            await using var qemu = await QemuChip.StartAsync("esp32c3");
            var o = qemu.Options(stub: true) with { Trace = e => log.AppendLine($"{sw.Elapsed.TotalMilliseconds:0.0} {(e.FromHost ? "H" : "C")} {Convert.ToHexString(e.Packet.Span[..Math.Min(40, e.Packet.Length)])}"), Log = l => log.AppendLine(l) };
            await using (var session = await Protocol.Loader.EspSession.ConnectAsync(o))
            {
                log.AppendLine((await ChipInfo.ReadAsync(session)).Mac);
            }
            log.AppendLine($"{sw.Elapsed.TotalMilliseconds:0.0} ---- second");
            bool ok;
            try { await using var again = await Protocol.Loader.EspSession.ConnectAsync(o with { ConnectAttempts = 1 }); ok = true; }
            catch (Exception ex) { log.AppendLine(ex.Message); ok = false; }
            summary.Append(ok ? "ok " : "FAIL ");
            if (!ok) File.WriteAllText($"/tmp/dbg-fail-{i}.txt", log.ToString());
        }
        File.WriteAllText("/tmp/dbg-summary.txt", summary.ToString());
    }
}
