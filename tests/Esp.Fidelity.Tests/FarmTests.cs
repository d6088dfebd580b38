using Esp.Fidelity.Tests.Emulator;
using Esp.Protocol.Farm;
using Esp.Protocol.Operations;

namespace Esp.Fidelity.Tests;

/// <summary>
/// Two boards at once on real ROMs: two QEMU ESP32-C3 emulators, each its own process and UART, deployed to by one farm
/// run through the ROM loader at 115200 Bd. Each board must hold the image afterwards, checked in its own flash file.
/// </summary>
public class FarmTests
{
    [Fact]
    public async Task TwoEmulatedEsp32C3RomsTakeTheSameDeployAtOnce()
    {
        var image = new byte[0x3000];
        new Random(1616).NextBytes(image);
        using var limit = new CancellationTokenSource(TimeSpan.FromMinutes(4));
        for (int attempt = 1; ; attempt++)
        {
            var first = await QemuChip.StartAsync("esp32c3");
            var second = await QemuChip.StartAsync("esp32c3");
            try
            {
                var boards = new[] { new Board(first.PortUri) { Label = "qemu-1" }, new Board(second.PortUri) { Label = "qemu-2" } };
                var byPort = new Dictionary<string, QemuChip> { [first.PortUri] = first, [second.PortUri] = second };
                var results = await FarmDeployer.DeployAsync(boards, b => byPort[b.Port].Options(stub: false),
                    [new DeployImage("app.bin", 0x10000, image)], new DeployOptions(), new FarmOptions(), ct: limit.Token);

                if (attempt < 4 && results.Any(r => !r.Succeeded) && (await first.LostUartInterruptAsync() || await second.LostUartInterruptAsync()))
                {
                    Console.WriteLine($"QEMU lost its UART interrupt (attempt {attempt}); running the farm again on fresh emulators.");
                    continue;
                }
                Assert.All(results, r => Assert.True(r.Succeeded, $"{r.Board.Name}: {r.Error?.CodeText} {r.Error?.Message}"));
                Assert.All(results, r => Assert.Equal("ESP32-C3", r.ChipName));
                Assert.All(results, r => Assert.True(r.Value!.Images.Single().Verified));
                Assert.Equal([first.Mac, second.Mac], results.Select(r => r.Mac));
                foreach (var qemu in new[] { first, second })
                    Assert.Equal(image, (await qemu.StopAndReadFlashAsync()).AsSpan(0x10000, image.Length).ToArray());
                return;
            }
            finally
            {
                await first.DisposeAsync();
                await second.DisposeAsync();
            }
        }
    }
}
