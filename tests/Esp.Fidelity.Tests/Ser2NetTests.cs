using Esp.Fidelity.Tests.Emulator;
using Esp.Protocol.Loader;
using Esp.Protocol.Operations;
using Esp.TestSupport.Interop;

namespace Esp.Fidelity.Tests;

/// <summary>
/// The engine through Debian's ser2net to the real ESP32-C3 ROM: QEMU's UART on a pseudo-terminal, ser2net serving
/// it as <c>rfc2217://</c>, as a remote lab serves a board. Skipped without ser2net unless CI requires it.
/// </summary>
public class Ser2NetTests
{
    private const uint Uart0ClockDivider = 0x60000014; // ESP32-C3 UART_CLKDIV_REG: integer part in bits 0..11

    private static byte[] Random(int n, int seed) { var b = new byte[n]; new Random(seed).NextBytes(b); return b; }

    [InteropFact(InteropTool.Ser2Net)]
    public async Task RomThroughSer2NetReadsTheMacAndWritesBeforeAndAfterABaudChange()
    {
        var slow = Random(0x2000, 21);
        var fast = Random(0x2000, 22);
        using var limit = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var ct = limit.Token;
        await QemuChip.RunAsync("esp32c3", null, async qemu =>
        {
            await using var ser2net = await Ser2NetServer.StartAsync(qemu.PtyDevice!, ct);
            var options = new ConnectOptions
            {
                Port = ser2net.Uri, Chip = "esp32c3", Baud = 115200, Before = "no-reset", After = "no-reset",
                NoStub = true, ConnectAttempts = 3,
            };
            // ser2net cannot drive DTR/RTS on QEMU's pty either: a reset is refused with a coded error, not a hang.
            var refused = await Assert.ThrowsAsync<Protocol.Errors.EspException>(() => EspSession.ConnectAsync(options with { Before = "default-reset" }, ct));
            Assert.Equal(Protocol.Errors.EspErrorCode.LineControlUnsupported, refused.Code);

            await using (var session = await EspSession.ConnectAsync(options, ct))
            {
                Assert.Equal(qemu.Mac, await ChipInfo.ReadMacAsync(session, ct));

                var atSlow = await FlashWriter.WriteAsync(session, 0x10000, slow, ct: ct);
                Assert.True(atSlow.Verified);
                Assert.Equal(FlashMd5.Of(slow), atSlow.Md5);
                uint dividerBefore = await session.ReadRegAsync(Uart0ClockDivider, ct) & 0xFFF;

                await session.ChangeBaudAsync(460800, ct);
                Assert.Equal(460800, session.Transport.BaudRate);
                // The ROM really switched (a pty carries any rate): its UART divides the clock about four times less.
                uint dividerAfter = await session.ReadRegAsync(Uart0ClockDivider, ct) & 0xFFF;
                Assert.InRange((double)dividerBefore / dividerAfter, 3.8, 4.2);

                var atFast = await FlashWriter.WriteAsync(session, 0x20000, fast, ct: ct);
                Assert.True(atFast.Verified);
                Assert.Equal(FlashMd5.Of(fast), atFast.Md5);
            }
            var flash = await qemu.StopAndReadFlashAsync();
            Assert.Equal(slow, flash.AsSpan(0x10000, slow.Length).ToArray());
            Assert.Equal(fast, flash.AsSpan(0x20000, fast.Length).ToArray());
        }, pty: true).WaitAsync(TimeSpan.FromMinutes(4));
    }
}
